//! Rules: which roles each function needs, and how far each role reaches (TOML).
//!
//! A function is covered at a place when every required role has at least one matching
//! institution within the role's reach. Roles are identified by id across functions: the same
//! id in two functions must carry the same definition (kinds, flags, beds, reach), so it is
//! computed once. The built-in file encodes the guideline; `zaitaku rules --default` prints it.

use crate::error::{Error, Location, Result};
use crate::inputs::institutions::{Flag, Flags, Institution, Kind, KindSet};
use crate::inputs::source::{decode_text, Source};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The built-in rules file, with comments that cite the guideline.
pub const DEFAULT_RULES: &str = include_str!("default_rules.toml");

/// The population column that counts as demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandColumn {
    Population,
    #[serde(rename = "population_65plus")]
    Population65Plus,
    #[serde(rename = "population_75plus")]
    Population75Plus,
    /// Children (aged 0-14): the guideline's home care of children and young people.
    #[serde(rename = "population_0_14")]
    Population0To14,
}

impl DemandColumn {
    pub fn as_str(self) -> &'static str {
        match self {
            DemandColumn::Population => "population",
            DemandColumn::Population65Plus => "population_65plus",
            DemandColumn::Population75Plus => "population_75plus",
            DemandColumn::Population0To14 => "population_0_14",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default = "default_demand")]
    demand: DemandColumn,
    access: Option<AccessFile>,
    network: Option<NetworkFile>,
    capacity: Option<CapacityFile>,
    functions: Vec<FunctionFile>,
}

/// `[capacity]`: need rates and default capacities of `zaitaku capacity`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityFile {
    need_rate: Option<Spanned<toml::Value>>,
    default_capacity: Option<Spanned<std::collections::BTreeMap<String, f64>>>,
}

/// Need and supply of `zaitaku capacity` (the `[capacity]` table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityRules {
    /// Per function (rules order): the share of its demand that needs its roles in a month.
    pub need_rate: Vec<f64>,
    /// Per function: where the rate comes from (`rules` when the file sets it, else `built-in`).
    pub need_rate_source: Vec<&'static str>,
    /// Patients a month of an institution of each kind whose row has no capacity.
    #[serde(serialize_with = "ser_kind_values")]
    pub default_capacity: Vec<(Kind, f64)>,
}

fn ser_kind_values<S: serde::Serializer>(v: &[(Kind, f64)], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_map(v.iter().map(|(k, x)| (k.as_str(), x)))
}

impl CapacityRules {
    /// The default capacity of a kind (0 for a kind the rules leave out).
    pub fn default_for(&self, kind: Kind) -> Option<f64> {
        self.default_capacity.iter().find(|(k, _)| *k == kind).map(|x| x.1)
    }
}

/// `[network]`: speeds and snapping of travel-time mode.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    offroad_kmh: Option<Spanned<f64>>,
    snap_limit_m: Option<Spanned<f64>>,
    speeds_kmh: Option<Spanned<std::collections::BTreeMap<String, f64>>>,
}

/// Road classes and speeds of travel-time mode (the `[network]` table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRules {
    /// Speed off the road network, from a place or an institution to its road node, km/h.
    pub offroad_kmh: f64,
    /// A place or institution farther than this from every road node is not reached, metres.
    pub snap_limit_m: f64,
    /// Speed of each OpenStreetMap `highway` class that is driven, km/h (classes sorted).
    pub speeds_kmh: Vec<(String, f64)>,
}

/// `[access]`: the E2SFCA decay, in km (straight-line) or minutes (travel time).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessFile {
    decay: Spanned<String>,
    steps: Option<Spanned<Vec<(f64, f64)>>>,
    sigma: Option<Spanned<f64>>,
}

/// Distance decay of the E2SFCA, in the reach unit (metres or minutes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decay", rename_all = "snake_case")]
pub enum Decay {
    /// Steps (upper bound, weight): weight w_s for b_(s-1) < d <= b_s, 0 beyond the last.
    Steps { steps: Vec<(f64, f64)> },
    /// The Luo and Qi zones scaled to each role's reach: weights for the first, second and
    /// last third of the reach (their 0-10, 10-20, 20-30 minutes of a 30-minute catchment).
    Thirds { weights: [f64; 3] },
    /// f(d) = exp(-d^2 / (2 sigma^2)) within the reach.
    Gaussian { sigma: f64 },
}

impl Default for Decay {
    /// Luo and Qi's weights 1, 0.68, 0.22 over thirds of the reach.
    fn default() -> Self {
        Decay::Thirds {
            weights: [1.0, 0.68, 0.22],
        }
    }
}

impl Decay {
    /// Steps given as (upper bound in km or minutes, weight), checked: bounds increase,
    /// weights lie in (0, 1] and do not increase. `scale` converts the bounds (1000 for km
    /// to metres).
    pub fn from_steps(steps: &[(f64, f64)], scale: f64) -> std::result::Result<Decay, String> {
        if steps.is_empty() {
            return Err("no steps".into());
        }
        let mut out: Vec<(f64, f64)> = Vec::new();
        for (n, &(b, w)) in steps.iter().enumerate() {
            if !(b.is_finite() && b > 0.0 && w.is_finite() && w > 0.0 && w <= 1.0) {
                return Err(format!(
                    "step {}: the bound must be positive and the weight in (0, 1]",
                    n + 1
                ));
            }
            if let Some(&(pb, pw)) = out.last() {
                if b * scale <= pb {
                    return Err(format!(
                        "step {}: bound {b} does not increase on the step before",
                        n + 1
                    ));
                }
                if w > pw {
                    return Err(format!(
                        "step {}: weight {w} rises above the step before; a decay must not increase",
                        n + 1
                    ));
                }
            }
            out.push((b * scale, w));
        }
        Ok(Decay::Steps { steps: out })
    }

    /// The same decay with every bound and sigma multiplied by `factor` (weights kept).
    pub fn scaled(&self, factor: f64) -> Decay {
        match self {
            Decay::Steps { steps } => Decay::Steps {
                steps: steps.iter().map(|&(b, w)| (b * factor, w)).collect(),
            },
            Decay::Thirds { weights } => Decay::Thirds { weights: *weights },
            Decay::Gaussian { sigma } => Decay::Gaussian { sigma: sigma * factor },
        }
    }

    /// A Gaussian decay of `sigma` (km or minutes) times `scale`.
    pub fn gaussian(sigma: f64, scale: f64) -> std::result::Result<Decay, String> {
        if sigma.is_finite() && sigma > 0.0 {
            Ok(Decay::Gaussian { sigma: sigma * scale })
        } else {
            Err(format!("sigma {sigma} must be a positive number"))
        }
    }
}

fn default_demand() -> DemandColumn {
    DemandColumn::Population65Plus
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionFile {
    id: Spanned<String>,
    #[serde(default)]
    label: String,
    roles: Vec<RoleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    id: Spanned<String>,
    #[serde(default)]
    label: String,
    kinds: Spanned<Vec<Kind>>,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    min_beds: f64,
    reach_km: Spanned<f64>,
    reach_min: Option<Spanned<f64>>,
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

/// A role: a kind of provider a function needs, and how far it reaches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Role {
    pub id: String,
    pub label: String,
    #[serde(serialize_with = "ser_kinds")]
    pub kinds: KindSet,
    #[serde(serialize_with = "ser_flags")]
    pub flags: Flags,
    pub min_beds: f64,
    /// Straight-line reach, kilometres.
    pub reach_km: f64,
    /// Travel-time reach, minutes.
    pub reach_min: Option<f64>,
}

fn ser_kinds<S: serde::Serializer>(k: &KindSet, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(k.iter().map(Kind::as_str))
}

fn ser_flags<S: serde::Serializer>(f: &Flags, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(f.iter().map(Flag::as_str))
}

impl Role {
    /// Whether an institution can fill this role.
    pub fn matches(&self, inst: &Institution) -> bool {
        self.kinds.contains(inst.kind)
            && inst.flags.contains_all(self.flags)
            && inst.beds.unwrap_or(0.0) >= self.min_beds
    }
}

/// A role as a function uses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleUse {
    /// Index into [`Rules::roles`].
    pub role: usize,
    /// A required role gates coverage; an optional one is only reported.
    pub required: bool,
}

/// One function of home medical care (退院支援, 日常の療養支援, 急変時の対応, 看取り, 連携拠点).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Function {
    pub id: String,
    pub label: String,
    pub roles: Vec<RoleUse>,
}

impl Function {
    pub fn required_roles(&self) -> impl Iterator<Item = usize> + '_ {
        self.roles.iter().filter(|r| r.required).map(|r| r.role)
    }
}

/// Validated rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    pub demand: DemandColumn,
    /// The `[access]` decay, in metres; `None`: not set (the default applies).
    pub access: Option<Decay>,
    /// The `[network]` table (the built-in one where the file has none, or for keys it omits).
    pub network: NetworkRules,
    /// The `[capacity]` table (built-in values where the file omits it or a key).
    pub capacity: CapacityRules,
    pub functions: Vec<Function>,
    /// Every distinct role, in order of first appearance.
    pub roles: Vec<Role>,
}

impl Rules {
    /// Per institution, the roles it fills as bits (role `r`: bit `r`), in one pass over the
    /// institutions; `None` past 64 roles.
    pub fn role_masks(&self, institutions: &[Institution]) -> Option<Vec<u64>> {
        use rayon::prelude::*;
        (self.roles.len() <= 64).then(|| {
            institutions
                .par_iter()
                .with_min_len(4096)
                .map(|inst| {
                    self.roles
                        .iter()
                        .enumerate()
                        .filter(|(_, role)| role.matches(inst))
                        .fold(0u64, |mask, (r, _)| mask | 1 << r)
                })
                .collect()
        })
    }

    /// The built-in rules.
    pub fn builtin() -> Rules {
        let mut rules = Rules::parse(&Source::new("built-in rules", DEFAULT_RULES.as_bytes()))
            .unwrap_or_else(|e| panic!("the built-in rules must be valid: {e}"));
        rules.capacity.need_rate_source.fill("built-in");
        rules
    }

    /// Reads and validates a rules file. Unknown keys, kinds or flags, and inconsistent
    /// definitions are errors naming the line.
    pub fn parse(source: &Source) -> Result<Rules> {
        let (text, _) = decode_text(source)?;
        let line_of = |offset: usize| Location::Line(1 + text[..offset.min(text.len())].matches('\n').count() as u64);
        let file: RulesFile = toml::from_str(&text).map_err(|e| {
            let location = e.span().map(|s| line_of(s.start)).unwrap_or(Location::File);
            Error::input(&source.name, location, e.message().to_string())
        })?;
        let bad =
            |span: std::ops::Range<usize>, problem: String| Error::input(&source.name, line_of(span.start), problem);
        let access = match &file.access {
            None => None,
            Some(a) => Some(match a.decay.get_ref().as_str() {
                "step" => match &a.steps {
                    Some(steps) => Decay::from_steps(steps.get_ref(), 1000.0)
                        .map_err(|p| bad(steps.span(), format!("[access] steps: {p}")))?,
                    None => Decay::default(),
                },
                "gaussian" => {
                    let sigma = a
                        .sigma
                        .as_ref()
                        .ok_or_else(|| bad(a.decay.span(), "[access] gaussian decay needs sigma (km)".into()))?;
                    Decay::gaussian(*sigma.get_ref(), 1000.0).map_err(|p| bad(sigma.span(), format!("[access] {p}")))?
                }
                other => {
                    return Err(bad(
                        a.decay.span(),
                        format!("[access] decay '{other}': expected step or gaussian"),
                    ))
                }
            }),
        };
        let network = network_rules(file.network.as_ref(), &bad)?;
        let mut rules = Rules {
            demand: file.demand,
            access,
            network,
            capacity: CapacityRules {
                need_rate: Vec::new(),
                need_rate_source: Vec::new(),
                default_capacity: Vec::new(),
            },
            functions: Vec::new(),
            roles: Vec::new(),
        };
        if file.functions.is_empty() {
            return Err(Error::input(&source.name, Location::File, "no [[functions]] defined"));
        }
        for f in file.functions {
            let fid = f.id.get_ref().clone();
            check_id(&fid).map_err(|p| bad(f.id.span(), p))?;
            if rules.functions.iter().any(|g| g.id == fid) {
                return Err(bad(f.id.span(), format!("function '{fid}' is defined twice")));
            }
            let mut function = Function {
                id: fid.clone(),
                label: f.label,
                roles: Vec::new(),
            };
            for r in f.roles {
                let rid = r.id.get_ref().clone();
                check_id(&rid).map_err(|p| bad(r.id.span(), p))?;
                if r.kinds.get_ref().is_empty() {
                    return Err(bad(r.kinds.span(), format!("role '{rid}' lists no kinds")));
                }
                let reach_km = *r.reach_km.get_ref();
                if !(reach_km.is_finite() && reach_km > 0.0) {
                    return Err(bad(
                        r.reach_km.span(),
                        format!("role '{rid}': reach_km must be a positive number"),
                    ));
                }
                if let Some(m) = &r.reach_min {
                    if !(m.get_ref().is_finite() && *m.get_ref() > 0.0) {
                        return Err(bad(
                            m.span(),
                            format!("role '{rid}': reach_min must be a positive number"),
                        ));
                    }
                }
                if !(r.min_beds.is_finite() && r.min_beds >= 0.0) {
                    return Err(bad(r.id.span(), format!("role '{rid}': min_beds must be 0 or more")));
                }
                let role = Role {
                    id: rid.clone(),
                    label: r.label,
                    kinds: r.kinds.get_ref().iter().copied().collect(),
                    flags: r.flags.iter().copied().collect(),
                    min_beds: r.min_beds,
                    reach_km,
                    reach_min: r.reach_min.as_ref().map(|m| *m.get_ref()),
                };
                let index = match rules.roles.iter().position(|x| x.id == rid) {
                    Some(i) => {
                        let Some(known) = rules.roles.get(i) else { continue };
                        let same = known.kinds == role.kinds
                            && known.flags == role.flags
                            && known.min_beds == role.min_beds
                            && known.reach_km == role.reach_km
                            && known.reach_min == role.reach_min;
                        if !same {
                            return Err(bad(
                                r.id.span(),
                                format!(
                                    "role '{rid}' is defined differently here than in an earlier function; \
                                     a role id means one definition (give this one another id)"
                                ),
                            ));
                        }
                        i
                    }
                    None => {
                        rules.roles.push(role);
                        rules.roles.len() - 1
                    }
                };
                if function.roles.iter().any(|u| u.role == index) {
                    return Err(bad(
                        r.id.span(),
                        format!("role '{rid}' is listed twice in function '{fid}'"),
                    ));
                }
                function.roles.push(RoleUse {
                    role: index,
                    required: r.required,
                });
            }
            if function.required_roles().next().is_none() {
                return Err(bad(f.id.span(), format!("function '{fid}' has no required role")));
            }
            rules.functions.push(function);
        }
        rules.capacity = capacity_rules(file.capacity.as_ref(), &rules.functions, &bad)?;
        Ok(rules)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The functions' ids, comma-separated (for messages).
    pub fn function_ids(&self) -> String {
        self.functions
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn function(&self, id: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.id == id)
    }
}

/// Ids become column names: lower-case letters, digits and underscores.
/// The `[network]` table: keys the file gives, the built-in values for the others.
fn network_rules(
    file: Option<&NetworkFile>,
    bad: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<NetworkRules> {
    let builtin = || -> NetworkRules {
        let parsed: RulesFile = toml::from_str(DEFAULT_RULES).unwrap_or_else(|e| panic!("built-in rules: {e}"));
        let n = parsed
            .network
            .unwrap_or_else(|| panic!("the built-in rules hold [network]"));
        let get = |v: &Option<Spanned<f64>>| v.as_ref().map(|x| *x.get_ref()).unwrap_or(f64::NAN);
        NetworkRules {
            offroad_kmh: get(&n.offroad_kmh),
            snap_limit_m: get(&n.snap_limit_m),
            speeds_kmh: n
                .speeds_kmh
                .map(|s| s.into_inner().into_iter().collect())
                .unwrap_or_default(),
        }
    };
    let mut out = builtin();
    let Some(f) = file else { return Ok(out) };
    let positive = |v: &Spanned<f64>, what: &str| -> Result<f64> {
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(bad(
                v.span(),
                format!("[network] {what} must be a positive number, not {x}"),
            ))
        }
    };
    if let Some(v) = &f.offroad_kmh {
        out.offroad_kmh = positive(v, "offroad_kmh")?;
    }
    if let Some(v) = &f.snap_limit_m {
        out.snap_limit_m = positive(v, "snap_limit_m")?;
    }
    if let Some(speeds) = &f.speeds_kmh {
        for (class, &kmh) in speeds.get_ref() {
            if !(kmh.is_finite() && kmh > 0.0) {
                return Err(bad(
                    speeds.span(),
                    format!("[network] speeds_kmh.{class} must be a positive number, not {kmh}"),
                ));
            }
            if class.is_empty() || !class.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(bad(
                    speeds.span(),
                    format!("[network] speeds_kmh: '{class}' is not an OpenStreetMap highway class"),
                ));
            }
        }
        // A table given in full replaces the built-in classes: only the classes listed are driven.
        out.speeds_kmh = speeds.get_ref().iter().map(|(c, &v)| (c.clone(), v)).collect();
    }
    Ok(out)
}

/// The `[capacity]` table: what the file gives, the built-in values for the rest.
fn capacity_rules(
    file: Option<&CapacityFile>,
    functions: &[Function],
    bad: &dyn Fn(std::ops::Range<usize>, String) -> Error,
) -> Result<CapacityRules> {
    let builtin: RulesFile = toml::from_str(DEFAULT_RULES).unwrap_or_else(|e| panic!("built-in rules: {e}"));
    let builtin = builtin
        .capacity
        .unwrap_or_else(|| panic!("the built-in rules hold [capacity]"));
    let rate_of = |v: &Spanned<toml::Value>, what: &str| -> Result<f64> {
        let x = match v.get_ref() {
            toml::Value::Float(x) => *x,
            toml::Value::Integer(x) => *x as f64,
            other => {
                return Err(bad(
                    v.span(),
                    format!("[capacity] {what} must be a number, not {}", other.type_str()),
                ))
            }
        };
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(bad(
                v.span(),
                format!("[capacity] {what} must lie in 0..1 (a share of the demand), not {x}"),
            ))
        }
    };
    let builtin_rate = match &builtin.need_rate {
        Some(v) => rate_of(v, "need_rate")?,
        None => panic!("the built-in rules give need_rate"),
    };
    let mut need_rate = vec![builtin_rate; functions.len()];
    let mut need_rate_source = vec!["built-in"; functions.len()];
    let mut default_capacity: Vec<(Kind, f64)> = Vec::new();
    let mut set_defaults = |table: &Spanned<std::collections::BTreeMap<String, f64>>| -> Result<()> {
        for (name, &x) in table.get_ref() {
            let kind = Kind::parse(name).ok_or_else(|| {
                bad(
                    table.span(),
                    format!("[capacity] default_capacity: unknown kind '{name}'"),
                )
            })?;
            if !(x.is_finite() && x >= 0.0) {
                return Err(bad(
                    table.span(),
                    format!("[capacity] default_capacity.{name} must be 0 or more patients a month, not {x}"),
                ));
            }
            default_capacity.retain(|(k, _)| *k != kind);
            default_capacity.push((kind, x));
        }
        Ok(())
    };
    if let Some(t) = &builtin.default_capacity {
        set_defaults(t)?;
    }
    if let Some(f) = file {
        if let Some(t) = &f.default_capacity {
            set_defaults(t)?;
        }
        if let Some(v) = &f.need_rate {
            match v.get_ref() {
                toml::Value::Table(t) => {
                    for (id, x) in t {
                        let Some(i) = functions.iter().position(|f| &f.id == id) else {
                            return Err(bad(
                                v.span(),
                                format!("[capacity] need_rate: no function '{id}' in these rules"),
                            ));
                        };
                        let x = rate_of(&Spanned::new(v.span(), x.clone()), &format!("need_rate.{id}"))?;
                        if let (Some(rate), Some(source)) = (need_rate.get_mut(i), need_rate_source.get_mut(i)) {
                            *rate = x;
                            *source = "rules";
                        }
                    }
                }
                _ => {
                    let x = rate_of(v, "need_rate")?;
                    need_rate = vec![x; functions.len()];
                    need_rate_source = vec!["rules"; functions.len()];
                }
            }
        }
    }
    default_capacity.sort_by_key(|(k, _)| *k);
    Ok(CapacityRules {
        need_rate,
        need_rate_source,
        default_capacity,
    })
}

fn check_id(id: &str) -> std::result::Result<(), String> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && id.as_bytes().first().is_some_and(u8::is_ascii_lowercase);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "id '{id}' must start with a lower-case letter and use only a-z, 0-9 and _ (it becomes a column name)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rules> {
        Rules::parse(&Source::new("rules.toml", text.as_bytes()))
    }

    #[test]
    fn builtin_rules_encode_the_guideline() {
        let rules = Rules::builtin();
        let ids: Vec<&str> = rules.functions.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["discharge", "daily", "acute", "end_of_life", "hub"]);
        assert_eq!(rules.demand, DemandColumn::Population65Plus);
        let vp = rules.role("visiting_physician").unwrap();
        assert_eq!(vp.reach_km, 16.0);
        assert!(vp.flags.contains(Flag::HomeVisits));
        // Shared roles are computed once.
        assert_eq!(rules.roles.iter().filter(|r| r.id == "backup_bed").count(), 1);
        assert_eq!(rules.roles.len(), 14);
    }

    #[test]
    fn unknown_key_names_the_line() {
        let err = parse("demand = \"population\"\n[[functions]]\nid = \"a\"\ncolour = 1\nroles = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("rules.toml: line 4: unknown field `colour`"), "{err}");
    }

    #[test]
    fn unknown_kind_names_the_line() {
        let err = parse(
            "[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"spaceport\"]\nreach_km = 1.0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("rules.toml: line 5: unknown kind 'spaceport'"), "{err}");
    }

    #[test]
    fn role_defined_twice_differently_is_an_error() {
        let text = "[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 16.0\n\
                    [[functions]]\nid = \"b\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 12.0\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with("rules.toml: line 10: role 'r' is defined differently"),
            "{err}"
        );
    }

    #[test]
    fn access_steps_not_increasing_name_the_line() {
        let text = "[access]\ndecay = \"step\"\nsteps = [[5.0, 1.0],\n  [4.0, 0.5]]\n[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 16.0\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with("rules.toml: line 3: [access] steps: step 2: bound 4 does not increase"),
            "{err}"
        );
        let ok = parse(&text.replace("[4.0, 0.5]", "[10.0, 0.5]")).unwrap();
        assert_eq!(
            ok.access,
            Some(Decay::Steps {
                steps: vec![(5000.0, 1.0), (10000.0, 0.5)]
            })
        );
    }

    #[test]
    fn capacity_table_checks_its_values_and_keeps_built_ins_for_the_rest() {
        let base = "[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 16.0\n\
                    [[functions]]\nid = \"b\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 16.0\n";
        // Without [capacity]: the built-in rate for every function, the built-in defaults.
        let r = parse(base).unwrap();
        assert_eq!(r.capacity.need_rate, vec![0.019, 0.019]);
        assert_eq!(r.capacity.need_rate_source, vec!["built-in", "built-in"]);
        assert_eq!(r.capacity.default_for(Kind::VisitingNurse), Some(43.0));
        // A rate for one function; one default changed, the others kept.
        let r = parse(&format!(
            "[capacity]\nneed_rate = {{ b = 0.005 }}\ndefault_capacity = {{ \"診療所\" = 12 }}\n{base}"
        ))
        .unwrap();
        assert_eq!(r.capacity.need_rate, vec![0.019, 0.005]);
        assert_eq!(r.capacity.need_rate_source, vec!["built-in", "rules"]);
        assert_eq!(r.capacity.default_for(Kind::Clinic), Some(12.0));
        assert_eq!(r.capacity.default_for(Kind::Pharmacy), Some(10.0));
        // Errors name the line and the problem.
        let err = |text: &str| parse(&format!("{text}\n{base}")).unwrap_err().to_string();
        let e = err("[capacity]\nneed_rate = 1.5");
        assert!(
            e.starts_with("rules.toml: line 2: [capacity] need_rate must lie in 0..1"),
            "{e}"
        );
        let e = err("[capacity]\nneed_rate = { c = 0.01 }");
        assert!(
            e.starts_with("rules.toml: line 2: [capacity] need_rate: no function 'c'"),
            "{e}"
        );
        let e = err("[capacity]\n\ndefault_capacity = { spaceport = 3 }");
        assert!(
            e.starts_with("rules.toml: line 3: [capacity] default_capacity: unknown kind 'spaceport'"),
            "{e}"
        );
        let e = err("[capacity]\ndefault_capacity = { clinic = -3 }");
        assert!(e.contains("default_capacity.clinic must be 0 or more"), "{e}");
        let e = err("[capacity]\nneed_rate = \"high\"");
        assert!(e.contains("need_rate must be a number, not string"), "{e}");
    }

    #[test]
    fn japanese_kind_names_are_accepted() {
        let r =
            parse("[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"薬局\"]\nreach_km = 16.0\n")
                .unwrap();
        assert!(r.roles[0].kinds.contains(Kind::Pharmacy));
    }
}
