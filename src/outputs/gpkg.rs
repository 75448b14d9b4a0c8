//! GeoPackage writing (OGC GeoPackage Encoding Standard 1.3, OGC 12-128r18) with SQLite.
//!
//! One file holds every layer a run wrote as GeoJSON: the required tables
//! (`gpkg_spatial_ref_sys` with EPSG:4326 and the two undefined systems, `gpkg_contents`,
//! `gpkg_geometry_columns`), one feature table per layer (`fid`, `geom`, the GeoJSON
//! properties as typed columns), and QGIS's `layer_styles` table with the layer's styles
//! (QML), the first of each layer marked as its default so QGIS shows it styled. Each
//! feature table has the standard's R-tree spatial index (`gpkg_rtree_index` extension:
//! the `rtree_<table>_geom` virtual table filled from the features' boxes, and the
//! standard's triggers that keep it current when a GIS edits the layer).
//!
//! Geometries are GeoPackage binary: the `GP` header (version 0, little-endian, SRS 4326,
//! an xy envelope except for points) followed by ISO WKB from the `wkb` crate.
//!
//! The file is byte-identical for the same layers: rows are inserted in the layers' order,
//! and the timestamps the standard asks for (`last_change`, `update_time`) are a fixed
//! instant rather than the clock.

use crate::error::{Error, Result};
use crate::outputs::geojson_out::OutGeometry;
use crate::outputs::styles::Style;
use geo::BoundingRect;
use rusqlite::{params, params_from_iter, Connection};
use serde_json::{Map, Value};
use std::path::Path;

/// The instant written where the standard asks for a modification time, so that the same
/// results give the same bytes.
pub const FIXED_TIMESTAMP: &str = "2000-01-01T00:00:00.000Z";

/// EPSG:4326 as the standard's own table lists it (Annex F).
const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,\
AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],\
UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]";

/// The spatial reference of every layer.
pub const SRS_ID: i32 = 4326;

/// The storage type of a column, from the values of its GeoJSON property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Integer,
    Real,
    Text,
}

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Text => "TEXT",
        }
    }

    /// The narrowest type holding both.
    fn widen(self, other: ColumnType) -> ColumnType {
        use ColumnType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Integer, Real) | (Real, Integer) => Real,
            _ => Text,
        }
    }

    fn of(v: &Value) -> Option<ColumnType> {
        match v {
            Value::Null => None,
            Value::Bool(_) => Some(ColumnType::Boolean),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(ColumnType::Integer),
            Value::Number(_) => Some(ColumnType::Real),
            _ => Some(ColumnType::Text),
        }
    }
}

/// One encoded feature: its GeoPackage geometry blob and its values in column order.
#[derive(Debug, Clone)]
pub struct Row {
    pub geometry: Vec<u8>,
    pub values: Vec<Value>,
}

/// A feature table ready to write.
#[derive(Debug, Clone)]
pub struct Layer {
    pub table: String,
    /// `POINT`, `POLYGON`, `MULTIPOLYGON`, or `GEOMETRY` for a mix.
    pub geometry_type: &'static str,
    pub columns: Vec<(String, ColumnType)>,
    pub rows: Vec<Row>,
    /// min x, min y, max x, max y of all features.
    pub bbox: Option<[f64; 4]>,
    /// Each row's box (min x, min y, max x, max y); `None` for an empty geometry.
    pub boxes: Vec<Option<[f64; 4]>>,
    pub styles: Vec<Style>,
}

/// The columns of a layer: every property name in first-seen order, typed by its values.
pub fn columns_of<'a>(properties: impl Iterator<Item = &'a Map<String, Value>>) -> Vec<(String, ColumnType)> {
    let mut columns: Vec<(String, Option<ColumnType>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in properties {
        for (k, v) in p {
            let i = *index.entry(k.as_str()).or_insert_with(|| {
                columns.push((k.clone(), None));
                columns.len() - 1
            });
            if let (Some(col), Some(t)) = (columns.get_mut(i), ColumnType::of(v)) {
                col.1 = Some(col.1.map_or(t, |c| c.widen(t)));
            }
        }
    }
    columns
        .into_iter()
        .map(|(k, t)| (k, t.unwrap_or(ColumnType::Text)))
        .collect()
}

/// The type of a column holding `values`, as [`columns_of`] types it.
pub fn column_type<'a>(values: impl Iterator<Item = &'a Value>) -> ColumnType {
    values
        .filter_map(ColumnType::of)
        .reduce(ColumnType::widen)
        .unwrap_or(ColumnType::Text)
}

/// The values of `properties` in column order (missing ones null).
pub fn values_of(properties: &Map<String, Value>, columns: &[(String, ColumnType)]) -> Vec<Value> {
    columns
        .iter()
        .map(|(k, _)| properties.get(k).cloned().unwrap_or(Value::Null))
        .collect()
}

/// [`values_of`], taking the values out of `properties`: when its keys are the columns in
/// order (as every writer here makes them), without a lookup or a copy.
pub fn take_values(properties: Map<String, Value>, columns: &[(String, ColumnType)]) -> Vec<Value> {
    let same = properties.len() == columns.len() && properties.keys().zip(columns).all(|(k, (c, _))| k == c);
    if same {
        return properties.into_iter().map(|(_, v)| v).collect();
    }
    let mut properties = properties;
    columns
        .iter()
        .map(|(k, _)| properties.get_mut(k).map(Value::take).unwrap_or(Value::Null))
        .collect()
}

/// The GeoPackage binary of a geometry and its bounding box.
pub fn geometry_blob(g: &OutGeometry) -> Result<(Vec<u8>, Option<[f64; 4]>)> {
    let options = wkb::writer::WriteOptions {
        endianness: wkb::Endianness::LittleEndian,
    };
    let mut wkb_bytes = Vec::new();
    let (written, rect) = match g {
        OutGeometry::Point(x, y) => {
            let p = geo::Point::new(*x, *y);
            (
                wkb::writer::write_point(&mut wkb_bytes, &p, &options),
                Some(geo::Rect::new(p.0, p.0)),
            )
        }
        OutGeometry::Polygon(p) => (
            wkb::writer::write_polygon(&mut wkb_bytes, p, &options),
            p.bounding_rect(),
        ),
        OutGeometry::MultiPolygon(mp) => (
            wkb::writer::write_multi_polygon(&mut wkb_bytes, *mp, &options),
            mp.bounding_rect(),
        ),
    };
    written.map_err(|e| Error::Internal(format!("encoding a geometry as WKB: {e}")))?;
    let bbox = rect.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    let point = matches!(g, OutGeometry::Point(..));
    // Flags: bit 0 little-endian; bits 1-3 envelope (1 = xy); bit 4 empty.
    let mut flags = 0x01u8;
    if bbox.is_none() {
        flags |= 0x10;
    } else if !point {
        flags |= 0x02;
    }
    let mut blob = Vec::with_capacity(8 + 32 + wkb_bytes.len());
    blob.extend_from_slice(b"GP");
    blob.push(0);
    blob.push(flags);
    blob.extend_from_slice(&SRS_ID.to_le_bytes());
    if let (Some([x0, y0, x1, y1]), false) = (bbox, point) {
        for v in [x0, x1, y0, y1] {
            blob.extend_from_slice(&v.to_le_bytes());
        }
    }
    blob.extend_from_slice(&wkb_bytes);
    Ok((blob, bbox))
}

/// The geometry type name of a layer's features.
pub fn geometry_type_of(geometries: &[OutGeometry]) -> &'static str {
    let name = |g: &OutGeometry| match g {
        OutGeometry::Point(..) => "POINT",
        OutGeometry::Polygon(_) => "POLYGON",
        OutGeometry::MultiPolygon(_) => "MULTIPOLYGON",
    };
    let mut names = geometries.iter().map(name);
    match names.next() {
        None => "GEOMETRY",
        Some(first) if names.all(|n| n == first) => first,
        Some(_) => "GEOMETRY",
    }
}

/// The union of two bounding boxes.
pub fn union_bbox(a: Option<[f64; 4]>, b: Option<[f64; 4]>) -> Option<[f64; 4]> {
    match (a, b) {
        (Some(a), Some(b)) => Some([a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]),
        (a, None) => a,
        (None, b) => b,
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_value(v: &Value, t: ColumnType) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Bool(b) => S::Integer(i64::from(*b)),
        Value::Number(n) => match (t, n.as_i64()) {
            (ColumnType::Integer, Some(i)) => S::Integer(i),
            (ColumnType::Text, _) => S::Text(n.to_string()),
            _ => n.as_f64().map_or(S::Null, S::Real),
        },
        Value::String(s) => S::Text(s.clone()),
        other => S::Text(other.to_string()),
    }
}

/// The R-tree spatial index of a layer's `geom` (GeoPackage 1.3, Annex F.3): registered in
/// `gpkg_extensions`, filled from the rows' boxes (row `k` has fid `k + 1`), then the
/// standard's triggers, created last since they call the `ST_*` functions that GIS
/// software provides and plain SQLite lacks.
fn spatial_index(tx: &Connection, layer: &Layer) -> rusqlite::Result<()> {
    let t = &layer.table;
    let rtree = quote(&format!("rtree_{t}_geom"));
    let table = quote(t);
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![t],
    )?;
    tx.execute(
        &format!("CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)"),
        [],
    )?;
    let entries: Vec<(i64, [f64; 4])> = layer
        .boxes
        .iter()
        .enumerate()
        .filter_map(|(k, b)| b.map(|b| (k as i64 + 1, b)))
        .collect();
    bulk_load_rtree(tx, &format!("rtree_{t}_geom"), &entries)?;
    let values = "(NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))";
    let name = |suffix: &str| quote(&format!("rtree_{t}_geom_{suffix}"));
    tx.execute_batch(&format!(
        "CREATE TRIGGER {insert} AFTER INSERT ON {table} WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {rtree} VALUES {values}; END;
         CREATE TRIGGER {u1} AFTER UPDATE OF geom ON {table} WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {rtree} VALUES {values}; END;
         CREATE TRIGGER {u2} AFTER UPDATE OF geom ON {table} WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; END;
         CREATE TRIGGER {u3} AFTER UPDATE ON {table} WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; INSERT OR REPLACE INTO {rtree} VALUES {values}; END;
         CREATE TRIGGER {u4} AFTER UPDATE ON {table} WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {rtree} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER {delete} AFTER DELETE ON {table} WHEN old.geom NOT NULL
           BEGIN DELETE FROM {rtree} WHERE id = OLD.fid; END;",
        insert = name("insert"),
        u1 = name("update1"),
        u2 = name("update2"),
        u3 = name("update3"),
        u4 = name("update4"),
        delete = name("delete"),
    ))
}

/// SQLite's rounding of an R*Tree's lower bound to 32 bits: never above the value
/// (`rtreeValueDown` in SQLite's rtree.c).
fn value_down(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) > d {
        (d * if d < 0.0 { RND_AWAY } else { RND_TOWARDS }) as f32
    } else {
        f
    }
}

/// The upper bound's rounding: never below the value (`rtreeValueUp`).
fn value_up(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) < d {
        (d * if d < 0.0 { RND_TOWARDS } else { RND_AWAY }) as f32
    } else {
        f
    }
}

const RND_TOWARDS: f64 = 1.0 - 1.0 / 8_388_608.0;
const RND_AWAY: f64 = 1.0 + 1.0 / 8_388_608.0;

/// One node of a packed R-tree: its cells (a rowid or a child node's number, and a box as
/// minx, maxx, miny, maxy in 32 bits) and their bounds.
struct PackedNode {
    cells: Vec<(i64, [f32; 4])>,
}

impl PackedNode {
    fn bounds(&self) -> [f32; 4] {
        self.cells.iter().fold(
            [f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY],
            |b, (_, c)| [b[0].min(c[0]), b[1].max(c[1]), b[2].min(c[2]), b[3].max(c[3])],
        )
    }
}

/// Sort-Tile-Recursive packing (Leutenegger, Lopez and Edgington 1997) of `cells` into
/// nodes of at most `fan` cells: slices by the boxes' x centres, then runs by y centres.
/// Ties fall back to the cells' order, so the same cells give the same nodes.
fn str_pack(mut cells: Vec<(i64, [f32; 4])>, fan: usize) -> Vec<PackedNode> {
    let centre = |c: &[f32; 4], axis: usize| f64::from(c[2 * axis]) + f64::from(c[2 * axis + 1]);
    let nodes = cells.len().div_ceil(fan);
    let slices = (nodes as f64).sqrt().ceil().max(1.0) as usize;
    let per_slice = nodes.div_ceil(slices) * fan;
    cells.sort_by(|a, b| centre(&a.1, 0).total_cmp(&centre(&b.1, 0)));
    let mut out = Vec::with_capacity(nodes);
    for slice in cells.chunks_mut(per_slice.max(1)) {
        slice.sort_by(|a, b| centre(&a.1, 1).total_cmp(&centre(&b.1, 1)));
        for run in slice.chunks(fan) {
            out.push(PackedNode { cells: run.to_vec() });
        }
    }
    out
}

/// Fills the empty R*Tree `name` (just created) with `entries` (rowid, box as minx, miny,
/// maxx, maxy) at once: the tree is packed here and written straight into its shadow
/// tables (`_node`, `_rowid`, `_parent`) in SQLite's node format, as GDAL's bulk loader
/// does, instead of inserted entry by entry (each insert walks and rewrites the tree:
/// most of a national GeoPackage's time). Nodes are full but the last of each level;
/// SQLite reads, queries, updates and checks (`rtreecheck`) such a tree as its own.
/// The layout is SQLite's (ext/rtree/rtree.c, "the node format"): a node is a blob of the
/// root's length, big-endian: 2 bytes of tree depth (read in the root only), 2 bytes of
/// cell count, then per cell an 8-byte rowid or child node number and the box's bounds as
/// 32-bit floats, column by column (minx, maxx, miny, maxy).
fn bulk_load_rtree(tx: &Connection, name: &str, entries: &[(i64, [f64; 4])]) -> rusqlite::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let node_table = quote(&format!("{name}_node"));
    // The node size SQLite chose for this page size: the root's blob, made with the table.
    let node_size: usize = tx.query_row(
        &format!("SELECT length(data) FROM {node_table} WHERE nodeno = 1"),
        [],
        |r| r.get::<_, i64>(0),
    )? as usize;
    const CELL_BYTES: usize = 8 + 4 * 4;
    let fan = (node_size.saturating_sub(4) / CELL_BYTES).max(2);
    // Levels from the leaves up; a level's cells point at the nodes of the level below,
    // numbered later (the root is node 1, then each level from the top, in order).
    let mut levels: Vec<Vec<PackedNode>> = Vec::new();
    let mut cells: Vec<(i64, [f32; 4])> = entries
        .iter()
        .map(|&(id, [x0, y0, x1, y1])| (id, [value_down(x0), value_up(x1), value_down(y0), value_up(y1)]))
        .collect();
    loop {
        let nodes = str_pack(cells, fan);
        let single = nodes.len() == 1;
        // Placeholder child numbers: the index of the node in its level, fixed below.
        cells = nodes.iter().enumerate().map(|(k, n)| (k as i64, n.bounds())).collect();
        levels.push(nodes);
        if single {
            break;
        }
    }
    levels.reverse();
    // Node numbers: 1 for the root, then level by level.
    let mut first = Vec::with_capacity(levels.len());
    let mut next = 1i64;
    for level in &levels {
        first.push(next);
        next += level.len() as i64;
    }
    let depth = levels.len() - 1;
    let mut write_node = tx.prepare(&format!(
        "INSERT OR REPLACE INTO {node_table} (nodeno, data) VALUES (?1, ?2)"
    ))?;
    let mut write_parent = tx.prepare(&format!(
        "INSERT INTO {} (nodeno, parentnode) VALUES (?1, ?2)",
        quote(&format!("{name}_parent"))
    ))?;
    let mut write_rowid = tx.prepare(&format!(
        "INSERT INTO {} (rowid, nodeno) VALUES (?1, ?2)",
        quote(&format!("{name}_rowid"))
    ))?;
    let mut blob = vec![0u8; node_size];
    for (l, level) in levels.iter().enumerate() {
        let leaf = l == depth;
        for (k, node) in level.iter().enumerate() {
            let nodeno = first[l] + k as i64;
            blob.fill(0);
            let header = if nodeno == 1 { depth as u16 } else { 0 };
            blob[0..2].copy_from_slice(&header.to_be_bytes());
            blob[2..4].copy_from_slice(&(node.cells.len() as u16).to_be_bytes());
            for (c, (id, b)) in node.cells.iter().enumerate() {
                let at = 4 + c * CELL_BYTES;
                let id = if leaf { *id } else { first[l + 1] + id };
                blob[at..at + 8].copy_from_slice(&id.to_be_bytes());
                for (i, v) in b.iter().enumerate() {
                    blob[at + 8 + 4 * i..at + 12 + 4 * i].copy_from_slice(&v.to_bits().to_be_bytes());
                }
                if leaf {
                    write_rowid.execute(params![id, nodeno])?;
                } else {
                    write_parent.execute(params![id, nodeno])?;
                }
            }
            write_node.execute(params![nodeno, &blob])?;
        }
    }
    Ok(())
}

/// Writes `layers` as a new GeoPackage at `path` (an empty or missing file).
pub fn write(path: &Path, layers: &[Layer]) -> Result<()> {
    let mut package = Package::create(path)?;
    for layer in layers {
        package.add(layer)?;
    }
    package.finish()
}

/// A GeoPackage being written, layer by layer, in one transaction: the required tables
/// first, then each layer's table, rows and spatial index as it comes, and QGIS's style
/// table last. The same layers in the same order give the same bytes.
pub struct Package {
    conn: Connection,
    path: std::path::PathBuf,
    /// Each layer's table and styles, for the style table.
    styles: Vec<(String, Vec<Style>)>,
}

impl Package {
    /// Opens `path` (an empty or missing file) and writes the required tables.
    pub fn create(path: &Path) -> Result<Package> {
        let conn = Connection::open(path).map_err(|e| fail(path, e))?;
        let package = Package {
            conn,
            path: path.to_path_buf(),
            styles: Vec::new(),
        };
        package.begin().map_err(|e| fail(path, e))?;
        Ok(package)
    }

    fn begin(&self) -> rusqlite::Result<()> {
        let tx = &self.conn;
        tx.execute_batch(
            "PRAGMA application_id = 1196444487;
         PRAGMA user_version = 10300;
         PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;",
        )?;
        tx.execute_batch("BEGIN DEFERRED")?;
        tx.execute_batch(
            "CREATE TABLE gpkg_spatial_ref_sys (
           srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (
           table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (
           table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT uk_gc_table_name UNIQUE (table_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         CREATE TABLE gpkg_extensions (
           table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
           scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));",
        )?;
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                "Undefined cartesian SRS",
                -1,
                "NONE",
                -1,
                "undefined",
                "undefined cartesian coordinate reference system"
            ],
        )?;
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                "Undefined geographic SRS",
                0,
                "NONE",
                0,
                "undefined",
                "undefined geographic coordinate reference system"
            ],
        )?;
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                "WGS 84 geodetic",
                SRS_ID,
                "EPSG",
                SRS_ID,
                WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
            ],
        )?;
        Ok(())
    }

    /// Writes one layer: its table, rows and spatial index.
    pub fn add(&mut self, layer: &Layer) -> Result<()> {
        self.write_layer(layer).map_err(|e| fail(&self.path, e))?;
        self.styles.push((layer.table.clone(), layer.styles.clone()));
        Ok(())
    }

    fn write_layer(&self, layer: &Layer) -> rusqlite::Result<()> {
        let tx = &self.conn;
        let mut create = format!(
            "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {}",
            quote(&layer.table),
            layer.geometry_type
        );
        for (name, t) in &layer.columns {
            create.push_str(&format!(", {} {}", quote(name), t.sql()));
        }
        create.push(')');
        tx.execute(&create, [])?;
        let [x0, y0, x1, y1] = layer.bbox.map_or([None; 4], |b| b.map(Some));
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
             VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6, ?7)",
            params![layer.table, FIXED_TIMESTAMP, x0, y0, x1, y1, SRS_ID],
        )
        ?;
        tx.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            params![layer.table, layer.geometry_type, SRS_ID],
        )?;
        let placeholders: String = (0..layer.columns.len()).map(|i| format!(", ?{}", i + 2)).collect();
        let names: String = layer.columns.iter().map(|(n, _)| format!(", {}", quote(n))).collect();
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {} (geom{names}) VALUES (?1{placeholders})",
            quote(&layer.table)
        ))?;
        for row in &layer.rows {
            let values = std::iter::once(rusqlite::types::Value::Blob(row.geometry.clone())).chain(
                row.values
                    .iter()
                    .zip(&layer.columns)
                    .map(|(v, (_, t))| sql_value(v, *t)),
            );
            insert.execute(params_from_iter(values))?;
        }
        drop(insert);
        spatial_index(tx, layer)?;
        Ok(())
    }

    /// Writes the style table and commits.
    pub fn finish(self) -> Result<()> {
        self.write_styles().map_err(|e| fail(&self.path, e))?;
        let path = self.path;
        self.conn.close().map_err(|(_, e)| fail(&path, e))
    }

    fn write_styles(&self) -> rusqlite::Result<()> {
        let tx = &self.conn;
        // QGIS's style table (the layout GDAL and QGIS create), listed as an attributes table.
        tx.execute_batch(
            "CREATE TABLE layer_styles (
           id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
           f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
           styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
           update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));",
        )?;
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change)
         VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS styles of the layers', ?1)",
            params![FIXED_TIMESTAMP],
        )?;
        for (table, styles) in &self.styles {
            for style in styles {
                tx.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,
                   styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)
                 VALUES ('', '', ?1, 'geom', ?2, ?3, '', ?4, ?5, '', NULL, ?6)",
                params![
                    table,
                    style.name,
                    style.qml,
                    style.default,
                    style.description,
                    FIXED_TIMESTAMP
                ],
            )
            ?;
            }
        }
        tx.execute_batch("COMMIT")
    }
}

fn fail(path: &Path, e: rusqlite::Error) -> Error {
    Error::Internal(format!("writing GeoPackage {}: {e}", path.display()))
}

/// A GeoPackage written on a thread of its own while the run goes on: layers are sent as
/// they are made and written in that order ([`Package`]), so that none waits in memory for
/// the end of the run.
#[derive(Debug)]
pub struct Stream {
    send: Option<std::sync::mpsc::Sender<Layer>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Stream {
    /// Starts writing a new GeoPackage at `path` (an empty or missing file).
    pub fn start(path: &Path) -> Result<Stream> {
        let (send, receive) = std::sync::mpsc::channel::<Layer>();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("geopackage".into())
            .spawn(move || {
                let mut package = Package::create(&path)?;
                for layer in receive {
                    package.add(&layer)?;
                }
                package.finish()
            })
            .map_err(|e| Error::io("cannot start the GeoPackage writer".to_string(), e))?;
        Ok(Stream {
            send: Some(send),
            thread: Some(thread),
        })
    }

    /// Queues a layer. A failure of the writer is reported by [`Stream::finish`].
    pub fn add(&mut self, layer: Layer) {
        if let Some(send) = &self.send {
            // The writer stopped on an error, which `finish` returns.
            let _ = send.send(layer);
        }
    }

    /// Writes what is queued, the style table, and closes the file.
    pub fn finish(mut self) -> Result<()> {
        drop(self.send.take());
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::Internal("the GeoPackage writer stopped unexpectedly".into())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::geojson_out::OutFeature;
    use serde_json::json;

    /// A random box around Japan, as (min x, min y, max x, max y).
    fn random_box(state: &mut u64) -> [f64; 4] {
        let mut next = || {
            *state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (x, y) = (122.0 + 28.0 * next(), 24.0 + 22.0 * next());
        let (w, h) = (0.3 * next() * next(), 0.3 * next() * next());
        [x, y, x + w, y + h]
    }

    #[test]
    fn bulk_loaded_rtree_is_sqlites_own_tree() {
        let conn = Connection::open_in_memory().unwrap();
        let mut state = 7u64;
        let entries: Vec<(i64, [f64; 4])> = (1..=6000).map(|id| (id * 3, random_box(&mut state))).collect();
        // SQLite's own rounding, entry by entry, in a tree filled the usual way.
        conn.execute_batch(
            "CREATE VIRTUAL TABLE own USING rtree(id, minx, maxx, miny, maxy);
             CREATE VIRTUAL TABLE packed USING rtree(id, minx, maxx, miny, maxy);",
        )
        .unwrap();
        for (id, [x0, y0, x1, y1]) in &entries {
            conn.execute(
                "INSERT INTO own VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, x0, x1, y0, y1],
            )
            .unwrap();
        }
        bulk_load_rtree(&conn, "packed", &entries).unwrap();
        let check = |t: &str| -> String {
            conn.query_row(&format!("SELECT rtreecheck('{t}')"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(check("packed"), "ok");
        // 6,000 entries at 51 per node: 118 leaves under 3 nodes under the root.
        let depth: Vec<u8> = conn
            .query_row("SELECT substr(data, 1, 2) FROM packed_node WHERE nodeno = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(depth, [0, 2]);
        let all = |t: &str| -> Vec<(i64, f64, f64, f64, f64)> {
            let mut q = conn
                .prepare(&format!("SELECT id, minx, maxx, miny, maxy FROM {t} ORDER BY id"))
                .unwrap();
            q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        // The same boxes, to the bit, as SQLite stores them.
        let own = all("own");
        assert_eq!(own.len(), entries.len());
        assert_eq!(all("packed"), own);
        // Window queries through the tree find exactly the boxes a scan finds.
        for _ in 0..200 {
            let [x0, y0, x1, y1] = random_box(&mut state);
            let (x1, y1) = (x1 + 0.5, y1 + 0.5);
            let mut q = conn
                .prepare(
                    "SELECT id FROM packed WHERE maxx >= ?1 AND minx <= ?2 AND maxy >= ?3 AND miny <= ?4 ORDER BY id",
                )
                .unwrap();
            let got: Vec<i64> = q
                .query_map(params![x0, x1, y0, y1], |r| r.get(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let want: Vec<i64> = own
                .iter()
                .filter(|b| b.2 >= x0 && b.1 <= x1 && b.4 >= y0 && b.3 <= y1)
                .map(|b| b.0)
                .collect();
            assert_eq!(got, want);
        }
        // SQLite keeps the tree as its own through deletes and inserts.
        conn.execute("DELETE FROM packed WHERE id % 2 = 0", []).unwrap();
        for id in 0..500 {
            let [x0, y0, x1, y1] = random_box(&mut state);
            conn.execute(
                "INSERT INTO packed VALUES (?1, ?2, ?3, ?4, ?5)",
                params![100_000 + id, x0, x1, y0, y1],
            )
            .unwrap();
        }
        assert_eq!(check("packed"), "ok");
        let n: i64 = conn.query_row("SELECT count(*) FROM packed", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 3000 + 500);
    }

    #[test]
    fn columns_are_typed_by_their_values() {
        let f = |p: Value| OutFeature {
            geometry: OutGeometry::Point(135.0, 35.0),
            properties: p.as_object().cloned().unwrap_or_default(),
        };
        let features = [
            f(json!({"code": "20201", "n": 1, "share": 1, "flag": true, "none": null})),
            f(json!({"code": "20202", "n": 2, "share": 0.5, "flag": false, "none": null, "late": "x"})),
        ];
        let cols = columns_of(features.iter().map(|f| &f.properties));
        let types: Vec<(&str, ColumnType)> = cols.iter().map(|(k, t)| (k.as_str(), *t)).collect();
        assert_eq!(
            types,
            vec![
                ("code", ColumnType::Text),
                ("n", ColumnType::Integer),
                ("share", ColumnType::Real),
                ("flag", ColumnType::Boolean),
                ("none", ColumnType::Text),
                ("late", ColumnType::Text),
            ]
        );
        assert_eq!(values_of(&features[0].properties, &cols)[5], Value::Null);
    }

    #[test]
    fn geometry_blob_has_the_standard_header() {
        let square = geo::Polygon::new(
            geo::LineString::from(vec![(138.0, 36.0), (138.5, 36.0), (138.5, 36.25), (138.0, 36.0)]),
            vec![],
        );
        let (blob, bbox) = geometry_blob(&OutGeometry::Polygon(square)).unwrap();
        assert_eq!(&blob[..4], b"GP\x00\x03");
        assert_eq!(i32::from_le_bytes(blob[4..8].try_into().unwrap()), 4326);
        let env: Vec<f64> = (0..4)
            .map(|k| f64::from_le_bytes(blob[8 + 8 * k..16 + 8 * k].try_into().unwrap()))
            .collect();
        assert_eq!(env, vec![138.0, 138.5, 36.0, 36.25]);
        assert_eq!(bbox, Some([138.0, 36.0, 138.5, 36.25]));
        // WKB after the header: little-endian polygon (type 3), one ring of four points.
        assert_eq!(blob[40], 1);
        assert_eq!(u32::from_le_bytes(blob[41..45].try_into().unwrap()), 3);
        assert_eq!(u32::from_le_bytes(blob[45..49].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(blob[49..53].try_into().unwrap()), 4);
        let (point, _) = geometry_blob(&OutGeometry::Point(140.0, 40.0)).unwrap();
        assert_eq!(&point[..4], b"GP\x00\x01");
        assert_eq!(point.len(), 8 + 21);
    }
}
