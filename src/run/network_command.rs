//! `zaitaku network build`: a road graph from OpenStreetMap.

#[allow(unused_imports)]
use super::*;

/// `zaitaku network build`: the road graph of an OpenStreetMap PBF file, written atomically
/// to `out`.
pub fn network_build(
    pbf: &Source,
    rules: Option<&Source>,
    out: &Path,
    progress: Progress,
) -> Result<(crate::network::Graph, std::path::PathBuf)> {
    let rules = match rules {
        Some(r) => crate::inputs::rules::Rules::parse(r)?,
        None => crate::inputs::rules::Rules::builtin(),
    };
    let graph = crate::network::osm::build(pbf, &rules.network, progress)?;
    let name = out
        .file_name()
        .ok_or_else(|| crate::error::Error::Usage(format!("--out {}: not a file name", out.display())))?
        .to_string_lossy()
        .into_owned();
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // One file among the user's own: written whole, the folder not staged.
    let mut folder = OutDir::create_unstaged(&dir)?;
    folder.write_bytes(&name, &graph.to_bytes())?;
    Ok((graph, dir.join(name)))
}
