//! `zaitaku access`: 2SFCA and E2SFCA of every role, and their files.

#[allow(unused_imports)]
use super::*;

/// What an access run produced.
pub struct AccessRun {
    /// Per role, in rules order.
    pub roles: Vec<crate::access::RoleAccess>,
    /// Seconds per stage: reading and reach (when [`access`] read the study), the two
    /// steps, writing.
    pub stages: Vec<(&'static str, f64)>,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku access`: reads the study, measures reach by travel time when it is by travel
/// time (in a straight line, the second step counts the providers within reach), then
/// [`access_on`]. `decay`: from the command line; `None` takes the rules' `[access]`, else
/// the default.
pub fn access(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    decay: Option<&Decay>,
) -> Result<(Study, AccessRun)> {
    let t = Instant::now();
    let spinner = progress.spinner("reading");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    let read_s = t.elapsed().as_secs_f64();
    if study.od.is_none() && study.network.is_none() {
        let mut run = access_on(&study, None, None, out_dir, progress, decay)?;
        run.stages.insert(0, ("read", read_s));
        return Ok((study, run));
    }
    let t = Instant::now();
    let (reach, road) = measure_reach(&study, progress)?;
    let reach_s = t.elapsed().as_secs_f64();
    let mut run = access_on(&study, Some(&reach), road.as_ref(), out_dir, progress, decay)?;
    run.stages.splice(0..0, [("read", read_s), ("reach", reach_s)]);
    Ok((study, run))
}

/// Per reach: every institution's place among the providers summed for it (`u32::MAX` for
/// none), and their step 1 denominators ([`crate::access::catchment_demand`]).
type SharedDenominators = (Vec<u32>, Vec<(f64, f64)>);

/// 2SFCA and E2SFCA for every role of a study; writes access.csv, access.parquet,
/// access.geojson and access_summary.json. `reach` gives the providers within reach by
/// travel time (required then; in a straight line the second step counts them).
pub fn access_on(
    study: &Study,
    reach: Option<&ReachTable>,
    road: Option<&crate::reach::network::Snapping>,
    out_dir: &Path,
    progress: Progress,
    decay: Option<&Decay>,
) -> Result<AccessRun> {
    let default = Decay::default();
    let decay = decay.or(study.rules.access.as_ref()).unwrap_or(&default);
    // Travel-time mode: the same numbers are minutes (the decay is held in metres).
    let travel = crate::reach::pairs::Travel::of(study);
    let decay = match travel {
        Some(_) => decay.scaled(1e-3),
        None => decay.clone(),
    };
    let t = Instant::now();
    let places = study.demand.places();
    let demand: Vec<f64> = study.demand.cells.iter().map(|c| c.demand).collect();
    let roles: Vec<crate::access::RoleAccess> = match &travel {
        Some(travel) => {
            let spinner = progress.spinner("access by travel time");
            let roles = crate::access::access_by_travel(study, travel, &decay);
            spinner.finish_and_clear();
            roles
        }
        None => {
            let place_index = crate::reach::straight::ProviderIndex::with_weights(&places, &demand);
            // Places in blocks once per distinct reach (most roles share one).
            let mut reaches: Vec<f64> = study.rules.roles.iter().map(|r| r.reach_km * 1000.0).collect();
            reaches.sort_by(f64::total_cmp);
            reaches.dedup();
            let blocks: Vec<crate::reach::straight::Blocks> = reaches
                .iter()
                .map(|&r| crate::reach::straight::blocks_for(&places, r))
                .collect();
            // One step per reach (the providers' denominators), then one per role.
            let bar = progress.bar((reaches.len() + study.rules.roles.len()) as u64, "access");
            // Step 1's denominators depend on a provider's position, the reach and the decay
            // only: summed once per institution and reach, for every role of that reach it
            // fills (most institutions fill several roles).
            let matches: Vec<Vec<usize>> = study
                .rules
                .roles
                .iter()
                .map(|role| {
                    (0..study.institutions.len())
                        .filter(|&i| role.matches(&study.institutions[i]))
                        .collect()
                })
                .collect();
            let shared_by_reach: Vec<SharedDenominators> = reaches
                .iter()
                .map(|&reach_m| {
                    let mut union: Vec<usize> = study
                        .rules
                        .roles
                        .iter()
                        .zip(&matches)
                        .filter(|(role, _)| role.reach_km * 1000.0 == reach_m)
                        .flat_map(|(_, m)| m.iter().copied())
                        .collect();
                    union.sort_unstable();
                    union.dedup();
                    let points: Vec<(f64, f64)> = union
                        .iter()
                        .map(|&i| (study.institutions[i].lon, study.institutions[i].lat))
                        .collect();
                    let denominators = crate::access::catchment_demand(&place_index, &points, reach_m, &decay);
                    // Position in the union of every institution (u32::MAX outside it).
                    let mut at = vec![u32::MAX; study.institutions.len()];
                    for (k, &i) in union.iter().enumerate() {
                        at[i] = k as u32;
                    }
                    bar.inc(1);
                    (at, denominators)
                })
                .collect();
            let roles = study
                .rules
                .roles
                .iter()
                .zip(&matches)
                .map(|(role, matched)| {
                    bar.set_message(role.id.clone());
                    let providers: Vec<&crate::inputs::institutions::Institution> =
                        matched.iter().map(|&i| &study.institutions[i]).collect();
                    let points: Vec<(f64, f64)> = providers.iter().map(|i| (i.lon, i.lat)).collect();
                    let supply: Vec<f64> = providers.iter().map(|i| i.capacity.unwrap_or(1.0)).collect();
                    let reach_m = role.reach_km * 1000.0;
                    let k = reaches.iter().position(|&r| r == reach_m).unwrap_or(0);
                    let (at, shared) = &shared_by_reach[k];
                    let denominators: Vec<(f64, f64)> = matched.iter().map(|&i| shared[at[i] as usize]).collect();
                    let r = crate::access::role_access_with(
                        &places,
                        &blocks[k],
                        &points,
                        &supply,
                        &denominators,
                        reach_m,
                        &decay,
                    );
                    bar.inc(1);
                    r
                })
                .collect();
            bar.finish_and_clear();
            roles
        }
    };
    let access_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    let spinner = progress.spinner("writing");
    let in_reach: Vec<&[u32]> = roles
        .iter()
        .enumerate()
        .map(|(k, r)| match (&r.in_reach, reach) {
            (Some(n), _) => Ok(n.as_slice()),
            (None, Some(reach)) => Ok(reach.roles[k].in_reach.as_slice()),
            (None, None) => Err(crate::error::Error::Internal(
                "access by travel time needs the reach table".into(),
            )),
        })
        .collect::<Result<_>>()?;
    let written = crate::outputs::access_files::write_access(&mut out, study, &in_reach, &roles)
        .and_then(|()| crate::outputs::coverage_files::write_rejects(&mut out, study))
        .and_then(|()| write_unsnapped(&mut out, study, road))
        .and_then(|()| write_lock(&mut out, study));
    spinner.finish_and_clear();
    written?;
    let per_role: Map<String, Value> = study
        .rules
        .roles
        .iter()
        .zip(&roles)
        .map(|(role, r)| {
            let supply: f64 = study
                .institutions
                .iter()
                .filter(|i| role.matches(i))
                .map(|i| i.capacity.unwrap_or(1.0))
                .sum();
            (
                role.id.clone(),
                json!({
                    "providers": r.providers,
                    "supply": supply,
                    "supply_allocated_2sfca": r.supply_allocated.0,
                    "supply_allocated_e2sfca": r.supply_allocated.1,
                    "note": if r.providers == 0 { "no provider in the input: access is 0 everywhere" } else { "" },
                }),
            )
        })
        .collect();
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "access",
        "inputs": study.files,
        "rejected_total": study.rejects.len(),
        "regions": study.regions.len(),
        "demand": study.demand.basis.describe(),
        "supply": "capacity column, 1 per provider where absent",
        "method": {
            "a_2sfca": "two-step floating catchment area, binary weights within the role's reach (Luo and Wang 2003)",
            "a_e2sfca": "enhanced 2SFCA, decay in both steps, cut at the role's reach (Luo and Qi 2009)",
            "decay": decay,
            "distance_unit": if travel.is_some() {
                "minutes (steps and sigma; reach: each role's reach_min by road, capped by reach_km in a straight line)"
            } else {
                "metres (steps and sigma)"
            },
            "gini": "demand-weighted Gini coefficient of a_2sfca over the municipality's places",
        },
        "roles": per_role,
    });
    let mut summary = summary;
    add_network_summary(&mut summary, study, road);
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("access_summary.json", &bytes)?;
    out.commit()?;
    Ok(AccessRun {
        roles,
        stages: vec![("access", access_s), ("writing", t.elapsed().as_secs_f64())],
        written: out.written().to_vec(),
    })
}
