//! The tables the commands print on the terminal, apart from the computation.

#[allow(unused_imports)]
use super::*;
use rayon::prelude::*;

/// The human summary of an access run: per role, providers, the mean supply per 1,000
/// demand (the same for 2SFCA and E2SFCA when all supply is allocated: both share out the
/// same supply), the spread of E2SFCA across places, and the demand with no access.
pub fn access_table(study: &Study, run: &AccessRun) -> String {
    let cells = &study.demand.cells;
    let total: f64 = cells.iter().map(|c| c.demand).sum();
    let mut s = format!(
        "{:<24} {:>9} {:>14} {:>14} {:>14} {:>10}\n",
        "role", "providers", "mean per 1000", "E2SFCA p10", "E2SFCA p90", "no access"
    );
    // Each role's line on its own (a sort of every place): the roles side by side, the lines
    // in rules order.
    let lines: Vec<String> = study
        .rules
        .roles
        .par_iter()
        .zip(&run.roles)
        .map(|(role, r)| {
            let mean = r.a_2sfca.iter().zip(cells).map(|(x, c)| x * c.demand).sum::<f64>() / total * 1000.0;
            let zero: f64 = r
                .a_2sfca
                .iter()
                .zip(cells)
                .filter(|(x, _)| **x <= 0.0)
                .map(|(_, c)| c.demand)
                .sum();
            let mut sorted: Vec<(f64, f64)> = r.a_e2sfca.iter().zip(cells).map(|(x, c)| (*x, c.demand)).collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let quantile = |q: f64| {
                let mut acc = 0.0;
                sorted
                    .iter()
                    .find(|p| {
                        acc += p.1;
                        acc >= q * total
                    })
                    .map_or(0.0, |p| p.0 * 1000.0)
            };
            format!(
                "{:<24} {:>9} {:>14.3} {:>14.3} {:>14.3} {:>9.1}%\n",
                role.id,
                r.providers,
                mean,
                quantile(0.1),
                quantile(0.9),
                zero / total * 100.0
            )
        })
        .collect();
    s.extend(lines);
    let stages: Vec<String> = run.stages.iter().map(|(n, t)| format!("{n} {t:.2} s")).collect();
    s.push_str(&format!("\ntime: {}\n", stages.join(", ")));
    s
}

/// The printed summary of indicators: the whole input's counts and rates.
pub fn indicators_table(run: &IndicatorsRun) -> String {
    let mut s = format!(
        "{:<34} {:>10} {:>12} {:>14}\n",
        "indicator (whole input)", "count", "per 100k", "per 100k 65+"
    );
    let all = run.areas.len() - 1;
    for r in run.rows.iter().filter(|r| r.area == all) {
        let f = |x: Option<f64>, d: usize| x.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "n/a".into());
        match r.share {
            Some(share) => s.push_str(&format!(
                "{:<34} {:>10} {:>11.1}% {:>14}\n",
                r.indicator,
                "",
                share * 100.0,
                ""
            )),
            None => s.push_str(&format!(
                "{:<34} {:>10} {:>12} {:>14}\n",
                r.indicator,
                f(r.count, 0),
                f(r.per_100k, 2),
                f(r.per_100k_65plus, 2)
            )),
        }
    }
    if !run.not_met.is_empty() {
        s.push_str(&format!("\nTargets not met ({}):\n", run.not_met.len()));
        for t in &run.not_met {
            s.push_str(&format!("  {t}\n"));
        }
    }
    s
}

/// The human summary printed after a coverage run: one line per function.
pub fn coverage_table(run: &CoverageRun) -> String {
    let mut s = String::new();
    let basis = run.study.demand.basis.describe();
    let unit = run.reach.unit;
    s.push_str(&format!(
        "{} municipalities, {} demand places, {} institutions; demand = {basis}\n\n",
        run.study.municipalities.len(),
        run.study.demand.cells.len(),
        run.study.institutions.len()
    ));
    s.push_str(&population_lines(&run.study));
    s.push_str(&format!(
        "{:<12} {:<30} {:>8} {:>14} {:>10}\n",
        "function",
        "",
        "covered",
        "uncovered",
        format!("p90 {}", unit.suffix())
    ));
    for (f, function) in run.study.rules.functions.iter().enumerate() {
        let t = &run.coverage.total[f];
        s.push_str(&format!(
            "{:<12} {} {:>7.1}% {:>14.0} {:>10}\n",
            function.id,
            pad_label(&function.label, 30),
            t.share.unwrap_or(0.0) * 100.0,
            t.uncovered(),
            t.p90
                .map(|v| format!("{:.1}", unit.to_output(v)))
                .unwrap_or_else(|| "-".into())
        ));
    }
    let rejected = run.study.rejects.len();
    if rejected > 0 {
        s.push_str(&format!("\n{rejected} rows or features rejected: see rejects.csv\n"));
    }
    s
}

/// What the population files were read as: for e-Stat files, the column of each measure
/// (one line per distinct choice, with the number of files), measures not available, and
/// what secrecy sharing did. Empty without e-Stat files.
pub fn population_lines(study: &Study) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for f in study
        .files
        .iter()
        .filter(|f| f.role == "population" && !f.columns.is_empty())
    {
        let mut line: Vec<String> = f.columns.iter().map(|c| c.describe()).collect();
        line.extend(
            f.notes
                .iter()
                .filter(|n| n.ends_with("not available from this file"))
                .cloned(),
        );
        let line = line.join("; ");
        match seen.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => seen.push((line, 1)),
        }
    }
    let mut s = String::new();
    for (line, n) in &seen {
        let files = if *n == 1 {
            "1 e-Stat file".to_string()
        } else {
            format!("{n} e-Stat files")
        };
        s.push_str(&format!("{files}: {line}\n"));
    }
    if let Some(sentence) = study.secrecy.sentence() {
        s.push_str(&sentence);
        s.push('\n');
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// How far from the best the proposal could be: catchments found against the upper bound
/// the floors allow (no layout meeting every floor has more), per unit when there are few.
pub fn bound_line(r: &crate::catchments::Catchments) -> String {
    let found: usize = r.units.iter().map(|u| u.catchments).sum();
    let bound: usize = r.units.iter().map(|u| u.upper_bound).sum();
    let at = r.units.iter().filter(|u| u.catchments >= u.upper_bound).count();
    let tried: usize = r.units.iter().map(|u| u.constructions).sum();
    let proven = r.units.iter().filter(|u| u.exact == Some(true)).count();
    let mut s = format!(
        "found {found} of at most {bound} (upper bound from the floors); at the bound in {at} of {} units; \
         the maximum proven in {proven} (at the bound, or by exact search: units of up to {} municipalities, and up to {} with a smaller budget); {tried} constructions\n",
        r.units.len(),
        crate::catchments::exact::EXACT_MAX_AREAS,
        crate::catchments::exact::ATTEMPT_MAX_AREAS
    );
    if r.units.len() <= 3 {
        for u in &r.units {
            s.push_str(&format!(
                "  {}: {} found, at most {}, {}, {} constructions\n",
                u.name,
                u.catchments,
                u.upper_bound,
                exact_words(u.exact),
                u.constructions
            ));
        }
    }
    s
}

/// Whether a unit's count is proven the maximum, in words.
pub fn exact_words(exact: Option<bool>) -> &'static str {
    match exact {
        Some(true) => "the maximum (proven)",
        Some(false) => "not proven (exact search out of budget)",
        None => "not proven (too many municipalities for the exact search)",
    }
}

/// Pads a label that may hold wide (CJK) characters to a display width.
pub(crate) fn pad_label(label: &str, width: usize) -> String {
    let mut out = String::new();
    let mut w = 0;
    for ch in label.chars() {
        let cw = if ch.is_ascii() { 1 } else { 2 };
        if w + cw > width {
            break;
        }
        out.push(ch);
        w += cw;
    }
    out.push_str(&" ".repeat(width - w));
    out
}

/// The human summary of a catchments run.
pub fn catchments_table(study: &Study, run: &CatchmentsRun) -> String {
    use crate::catchments::adjacency::LinkKind;
    let r = &run.result;
    let mut s = String::new();
    s.push_str(&format!(
        "{} municipalities: {} rook, {} queen and {} island links\n\n",
        study.municipalities.len(),
        r.adjacency.count(LinkKind::Rook),
        r.adjacency.count(LinkKind::Queen),
        r.adjacency.count(LinkKind::IslandLink)
    ));
    let fails = |areas: &[crate::catchments::AreaCheck], f: usize| {
        areas.iter().filter(|a| !a.functions[f].self_sufficient).count()
    };
    s.push_str(&format!("{:<12} {:>12} {:>12}\n", "not self-", "regions", "catchments"));
    s.push_str(&format!(
        "{:<12} {:>12} {:>12}\n",
        "sufficient",
        if r.regions.is_empty() {
            "-".to_string()
        } else {
            format!("of {}", r.regions.len())
        },
        format!("of {}", r.catchments.len())
    ));
    for (f, func) in study.rules.functions.iter().enumerate() {
        s.push_str(&format!(
            "{:<12} {:>12} {:>12}\n",
            func.id,
            if r.regions.is_empty() {
                "-".to_string()
            } else {
                fails(&r.regions, f).to_string()
            },
            fails(&r.catchments, f)
        ));
    }
    let meeting = r.catchments.iter().filter(|c| c.failing.is_empty()).count();
    s.push_str(&format!(
        "\n{} catchments proposed, {} meeting every floor",
        r.catchments.len(),
        meeting
    ));
    if let Some(c) = &r.comparison {
        s.push_str(&format!(
            "; against the {} regions: adjusted Rand index {:.3}, {} municipalities move",
            r.regions.len(),
            c.adjusted_rand,
            c.moved.len()
        ));
    }
    s.push('\n');
    s.push_str(&bound_line(r));
    for f in &r.absent_functions {
        s.push_str(&format!(
            "{}: no provider of a required role anywhere in the input; left out of the floors\n",
            study.rules.functions[*f].id
        ));
    }
    for u in &r.units {
        for d in &u.dropped {
            s.push_str(&format!("{}: {d}\n", u.name));
        }
    }
    let by_year = crate::outputs::catchment_files::failing_by_year(r);
    if !by_year.is_empty() {
        s.push_str(&format!(
            "\nthe same layouts in every year (areas missing a floor):\n{:<6} {:>12} {:>12}\n",
            "year", "catchments", "regions"
        ));
        for (y, c, g) in by_year {
            let regions = if r.regions.is_empty() {
                "-".to_string()
            } else {
                format!("{g} of {}", r.regions.len())
            };
            s.push_str(&format!(
                "{y:<6} {:>12} {regions:>12}\n",
                format!("{c} of {}", r.catchments.len())
            ));
        }
    }
    let stages: Vec<String> = run.stages.iter().map(|(n, t)| format!("{n} {t:.2} s")).collect();
    s.push_str(&format!("time: {}\n", stages.join(", ")));
    s
}

/// The human summary of a comparison.
pub fn compare_table(run: &CompareRun, min_share: f64) -> String {
    let d = &run.diff;
    let mut s = String::new();
    s.push_str(&format!(
        "base {}\nalt  {}\n\n{:<12} {:>9} {:>9} {:>12} {:>12} {:>12}\n",
        run.base.label, run.alt.label, "function", "base", "alt", "gained", "lost", "net"
    ));
    for (f, c) in d.functions.iter().zip(&d.changes) {
        let share = |cov: f64, dem: f64| {
            if dem > 0.0 {
                format!("{:.2}%", 100.0 * cov / dem)
            } else {
                "-".into()
            }
        };
        s.push_str(&format!(
            "{:<12} {:>9} {:>9} {:>12.0} {:>12.0} {:>12.0}\n",
            f,
            share(c.base_covered, c.base_demand),
            share(c.alt_covered, c.alt_demand),
            c.gained,
            c.lost,
            c.alt_covered - c.base_covered
        ));
    }
    for (f, c) in d.functions.iter().zip(&d.changes) {
        let names = |v: &[usize]| {
            v.iter()
                .map(|&m| run.base.municipalities[m].name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !c.fell_below.is_empty() {
            s.push_str(&format!("{f}: fell below {min_share}: {}\n", names(&c.fell_below)));
        }
        if !c.rose_above.is_empty() {
            s.push_str(&format!("{f}: rose to {min_share}: {}\n", names(&c.rose_above)));
        }
    }
    if let Some((ari, moved)) = &d.layouts {
        s.push_str(&format!(
            "catchments: adjusted Rand index {ari:.3}, {} municipalities move\n",
            moved.len()
        ));
    }
    if !d.unmatched_functions.is_empty() {
        s.push_str(&format!(
            "not compared (one side only): {}\n",
            d.unmatched_functions.join(", ")
        ));
    }
    s.push_str(&format!("{}\n", run.how.join("; ")));
    s
}

/// The human summary of a suggestion.
pub fn suggest_table(study: &Study, s: &crate::suggest::Suggestion) -> String {
    let mut out = format!(
        "function {}, role {}: {:.0} demand uncovered, {:.0} of it only for want of this role; {} candidates\n\n{:>4} {:<9} {:<22} {:>10} {:>11} {:>12}\n",
        study.rules.functions[s.function].id,
        study.rules.roles[s.role].id,
        s.uncovered,
        s.coverable,
        s.candidates,
        "rank",
        "site",
        "id",
        "lat",
        "lon",
        "added"
    );
    for (n, p) in s.picks.iter().enumerate() {
        let (site, id) = match &p.site {
            crate::suggest::Site::Existing(k) => ("existing", study.institutions[*k].id.clone()),
            crate::suggest::Site::New(c) => ("new", format!("NEW-{}", study.demand.cells[*c].mesh.code())),
        };
        out.push_str(&format!(
            "{:>4} {:<9} {:<22} {:>10.5} {:>11.5} {:>12.0}\n",
            n + 1,
            site,
            id,
            p.lat,
            p.lon,
            p.added
        ));
    }
    out
}

/// The human summary of a multi-year run: the whole input's share per function and year.
pub fn years_table(study: &Study, per_year: &[(u16, Coverage)]) -> String {
    let mut s = format!("{:<12}", "function");
    for (y, _) in per_year {
        s.push_str(&format!(" {y:>8}"));
    }
    s.push('\n');
    for (f, func) in study.rules.functions.iter().enumerate() {
        s.push_str(&format!("{:<12}", func.id));
        for (_, c) in per_year {
            s.push_str(&format!(" {:>7.1}%", 100.0 * c.total[f].share.unwrap_or(0.0)));
        }
        s.push('\n');
    }
    s
}

/// The human summary of a road graph.
pub fn network_table(graph: &crate::network::Graph) -> String {
    let i = &graph.info;
    let mut s = format!(
        "{}: {} nodes, {} directed edges (largest strongly connected component; {} nodes in {} smaller components dropped)\n",
        i.source,
        graph.nodes(),
        graph.edges(),
        i.nodes_dropped,
        i.components_dropped
    );
    s.push_str(&format!(
        "before: {} nodes, {} directed edges\n\nways kept by class:\n",
        i.nodes_before, i.edges_before
    ));
    for (class, n) in &i.ways_by_class {
        let kmh = i.speeds_kmh.iter().find(|c| &c.0 == class).map(|c| c.1).unwrap_or(0.0);
        s.push_str(&format!("  {class:<16} {n:>9}   default {kmh} km/h\n"));
    }
    if !i.ways_left_out.is_empty() {
        s.push_str("left out:\n");
        for (why, n) in &i.ways_left_out {
            s.push_str(&format!("  {why:<40} {n:>9}\n"));
        }
    }
    match &graph.hierarchy {
        Some(h) => s.push_str(&format!(
            "contraction hierarchy: {} upward and {} downward edges ({} shortcuts)\n",
            h.up_head.len(),
            h.down_head.len(),
            (h.up_head.len() + h.down_head.len()).saturating_sub(graph.edges())
        )),
        None => s.push_str(
            "no contraction hierarchy (a graph file of version 1): searches run on the whole graph; rebuild it to speed them up\n",
        ),
    }
    s
}

/// Seconds per stage of a report's presentation, and the files it wrote.
pub type ReportWritten = (Vec<(&'static str, f64)>, Vec<std::path::PathBuf>);

/// Per function: the demand some single closure could uncover, and the `top` institutions
/// whose closure alone would uncover the most.
pub fn criticality_table(study: &Study, c: &crate::criticality::Criticality, top: usize) -> String {
    let mut out = String::new();
    for (f, entries) in c.functions.iter().enumerate() {
        let function = &study.rules.functions[f];
        out.push_str(&format!(
            "{}: {:.0} demand covered, {:.0} of it would lose coverage if one institution closed\n",
            function.id, c.covered[f], c.fragile[f]
        ));
        let all: Vec<_> = crate::outputs::criticality_files::ranked(entries)
            .into_iter()
            .filter(|e| e.role == crate::criticality::RoleSlot::All && e.unique_demand > 0.0)
            .take(top)
            .collect();
        if all.is_empty() {
            out.push_str("  no institution is the only provider in reach of any covered place\n\n");
            continue;
        }
        out.push_str(&format!(
            "  {:>4} {:<22} {:<22} {:>12}\n",
            "rank", "id", "kind", "unique"
        ));
        for (n, e) in all.iter().enumerate() {
            let inst = &study.institutions[e.institution];
            out.push_str(&format!(
                "  {:>4} {:<22} {:<22} {:>12.0}\n",
                n + 1,
                inst.id,
                inst.kind.as_str(),
                e.unique_demand
            ));
        }
        out.push('\n');
    }
    out
}

/// The terminal table of `zaitaku capacity`: per function its need served, and per role how
/// many providers are full.
pub fn capacity_table(study: &Study, cap: &crate::capacity::Capacity) -> String {
    let rows = crate::capacity::area_rows_at(study, cap, "all");
    let mut out = format!(
        "{:<24} {:>12} {:>12} {:>8} {:>12} {:>8}\n",
        "function / role", "need", "served", "share", "unserved", "full"
    );
    let pct = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |s| format!("{:.1}%", s * 100.0));
    for (f, function) in study.rules.functions.iter().enumerate() {
        for r in rows.iter().filter(|r| r.function == f) {
            let (name, full) = match r.role {
                None => (function.id.clone(), String::new()),
                Some(role) => {
                    let p = &cap.problems
                        [cap.function_problems[f][function.roles.iter().position(|u| u.role == role).unwrap_or(0)]];
                    let full = p.providers_full();
                    (
                        format!("  {}", study.rules.roles[role].id),
                        format!("{full}/{}", p.providers.len()),
                    )
                }
            };
            out.push_str(&format!(
                "{:<24} {:>12.0} {:>12.0} {:>8} {:>12.0} {:>8}\n",
                name,
                r.served.need,
                r.served.served,
                pct(r.served.share()),
                r.served.unserved(),
                full
            ));
        }
        if let Some(fill) = rows
            .iter()
            .find(|r| r.function == f && r.role.is_none())
            .and_then(|r| r.fill)
        {
            out.push_str(&format!(
                "  AccessMod's fill ({} order) serves {:.0} ({})\n",
                cap.order.map_or("", |o| o.as_str()),
                fill.served,
                pct(fill.share())
            ));
        }
    }
    out
}
