//! The `zaitaku` command line: parses arguments, calls one library function per command,
//! and maps errors to exit codes (0 success, 2 bad usage or input, 1 anything else).

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zaitaku::access::Decay;
use zaitaku::inputs::municipalities::MunicipalityKeys;
use zaitaku::inputs::Source;
use zaitaku::progress::Progress;
use zaitaku::study::InputSources;
use zaitaku::{run, Error};

/// mimalloc as the allocator: the national runs allocate and free millions of small
/// vectors (parsed rings, overlay paths, candidate figures) from both threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_decommits` option (its position in `mi_option_t`, the same in mimalloc
/// 2 and 3; the Rust bindings name no constant for it).
const MI_OPTION_PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;

#[derive(Parser)]
#[command(
    name = "zaitaku",
    version,
    disable_help_flag = true,
    about = "Where home medical care reaches: per-function coverage for Japanese health planning"
)]
struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true, help_heading = "Run")]
    threads: Option<usize>,
    /// No progress bars.
    #[arg(long, short, global = true, help_heading = "Run")]
    quiet: bool,
    /// Progress as JSON lines on stderr (`{"stage", "done", "total", "message"}`), for a
    /// program that runs zaitaku (the QGIS plugin); `bar` (default) draws bars on a terminal.
    #[arg(long, global = true, value_enum, default_value = "bar", help_heading = "Run")]
    progress: ProgressMode,
    /// Print help.
    #[arg(long, short, global = true, action = clap::ArgAction::Help, help_heading = "Run")]
    help: Option<bool>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every analysis on the demo data compiled into the binary (Nagano, synthetic).
    #[command(after_help = "Example:\n  zaitaku demo --out zaitaku-demo")]
    Demo {
        /// Output folder.
        #[arg(long, default_value = "zaitaku-demo", help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Per-function coverage: which demand has every required role within reach.
    #[command(
        after_help = "Example:\n  zaitaku coverage --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --out results"
    )]
    Coverage {
        #[command(flatten)]
        inputs: InputArgs,
        /// Every year of projected population files (`all`) or a list (`2025,2040`): reach
        /// measured once, trend.csv and per-year shares in coverage.geojson.
        #[arg(long, conflicts_with = "year", help_heading = "Analysis")]
        years: Option<String>,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Accessibility per role: 2SFCA and E2SFCA, capacity-aware.
    #[command(
        after_help = "Example:\n  zaitaku access --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --decay step --steps \"5:1,10:0.68,16:0.22\" --out results"
    )]
    Access {
        #[command(flatten)]
        inputs: InputArgs,
        #[command(flatten)]
        decay: DecayArgs,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Catchment areas: check the regions of --regions and propose contiguous catchments in
    /// which every function is self-sufficient (max-p regionalization).
    #[command(
        after_help = "Example:\n  zaitaku catchments --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --regions secondary_regions.csv --out results\n\nClassic max-p (a demand floor only):\n  zaitaku catchments ... --min-share 0 --min-providers 0 --min-demand 20000 --out results"
    )]
    Catchments {
        #[command(flatten)]
        inputs: InputArgs,
        #[command(flatten)]
        floors: CatchmentArgs,
        /// Check a regions file that names unknown municipalities or leaves some out, as it is.
        #[arg(long, help_heading = "Inputs")]
        allow_partial: bool,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Results to look at: coverage and catchments with a GeoPackage of every layer and its
    /// QGIS styles, PNG and SVG maps per function, and an offline HTML report.
    #[command(
        after_help = "Example:\n  zaitaku report --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --regions regions.csv --out report\n\nThen open report/report.html in a browser, or report/zaitaku.gpkg in QGIS."
    )]
    Report {
        #[command(flatten)]
        inputs: InputArgs,
        #[command(flatten)]
        floors: CatchmentArgs,
        /// Check a regions file that names unknown municipalities or leaves some out, as it is.
        #[arg(long, help_heading = "Inputs")]
        allow_partial: bool,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Two results side by side: scenario files or folders written by `zaitaku coverage`.
    #[command(
        after_help = "Example:\n  zaitaku compare fixtures/scenarios/nagano_base.toml fixtures/scenarios/nagano_changes.toml --out diff\n  zaitaku compare results-2024 results-2030 --out diff"
    )]
    Compare {
        /// The base: a scenario file (.toml) or a result folder.
        base: PathBuf,
        /// The alternative: a scenario file or a result folder.
        alt: PathBuf,
        /// Share line to report municipalities crossing (0-1).
        #[arg(long, default_value_t = 0.9, help_heading = "Analysis")]
        min_share: f64,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Where to add providers of a role so that a function covers the most demand (maximal
    /// covering location, greedy).
    #[command(
        after_help = "Example:\n  zaitaku suggest --scenario fixtures/scenarios/nagano_base.toml --function acute --sites 5 --out sites"
    )]
    Suggest {
        #[command(flatten)]
        inputs: InputArgs,
        /// The function to cover.
        #[arg(long, help_heading = "Analysis")]
        function: String,
        /// The role to add (default: the required role that keeps the most demand uncovered).
        #[arg(long, help_heading = "Analysis")]
        role: Option<String>,
        /// Most sites to choose.
        #[arg(long, default_value_t = 10, help_heading = "Analysis")]
        sites: usize,
        /// Candidate sites: existing institutions that could take on the role, centres of
        /// uncovered cells, or both.
        #[arg(long, value_enum, default_value = "both", help_heading = "Analysis")]
        candidates: CandidateKind,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Which institutions alone keep people covered: per function, the demand each one's
    /// closure would uncover (one pass, not one run per institution).
    #[command(
        after_help = "Example:\n  zaitaku criticality --scenario fixtures/scenarios/nagano_base.toml --out critical"
    )]
    Criticality {
        #[command(flatten)]
        inputs: InputArgs,
        /// Institutions listed per function on the terminal.
        #[arg(long, default_value_t = 5, help_heading = "Outputs")]
        top: usize,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// Who is served when providers can take only so many patients: per function and
    /// area, the most need served within reach under each provider's capacity (an exact
    /// maximum flow), and how full each provider is.
    #[command(
        after_help = "Example:\n  zaitaku capacity --scenario fixtures/scenarios/nagano_base.toml --need-rate 0.02 --order capacity --out capacity"
    )]
    Capacity {
        #[command(flatten)]
        inputs: InputArgs,
        /// Share of the demand who need home care in a month: one for every function (0.02)
        /// or per function (daily=0.02,end_of_life=0.005). Default: the rules' [capacity].
        #[arg(long, help_heading = "Analysis")]
        need_rate: Option<String>,
        /// Also fill providers one by one as AccessMod does, in this order, to compare.
        #[arg(long, value_enum, help_heading = "Analysis")]
        order: Option<FillOrder>,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// The planning workbench: a local web page to close, reopen and add institutions, draw
    /// flooded areas and change rules, and see the effect on every function at once.
    #[command(
        after_help = "Example:\n  zaitaku serve --scenario fixtures/scenarios/nagano_base.toml\n  then open the address it prints; edits download as a scenario for `zaitaku compare`"
    )]
    Serve {
        #[command(flatten)]
        inputs: InputArgs,
        /// Share line to report municipalities crossing (0-1).
        #[arg(long, default_value_t = 0.9, help_heading = "Analysis")]
        min_share: f64,
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8765, help_heading = "Run")]
        port: u16,
        /// Address to listen on; anything but loopback needs the token printed at start.
        #[arg(long, default_value = "127.0.0.1", help_heading = "Run")]
        bind: std::net::IpAddr,
    },
    /// Guideline indicators per municipality, region, prefecture and the whole input.
    #[command(
        after_help = "Example:\n  zaitaku indicators --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --regions regions.csv --table deaths.csv --out results"
    )]
    Indicators {
        #[command(flatten)]
        inputs: InputArgs,
        /// Indicator catalogue TOML (default: built-in).
        #[arg(long, help_heading = "Inputs")]
        catalogue: Option<PathBuf>,
        /// Process or outcome table: municipality_code and numeric columns (repeatable).
        #[arg(long, help_heading = "Inputs")]
        table: Vec<PathBuf>,
        /// Numerical targets: indicator,area_code,target,direction[,measure].
        #[arg(long, help_heading = "Inputs")]
        targets: Option<PathBuf>,
        /// Output folder (created if missing).
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
    },
    /// What a file is and how it would be read (format, encoding, rows, rejects), without analysing.
    #[command(after_help = "Example:\n  zaitaku inspect tblT001141H5438.txt")]
    Inspect {
        /// The file.
        file: PathBuf,
    },
    /// Print the rules file.
    #[command(after_help = "Example:\n  zaitaku rules --default > rules.toml")]
    Rules {
        /// The built-in rules, with comments citing the guideline.
        #[arg(long, required = true)]
        default: bool,
    },
    /// Road networks for travel-time reach.
    #[command(after_help = "Example:\n  zaitaku network build --pbf japan-latest.osm.pbf --out japan.graph")]
    Network {
        #[command(subcommand)]
        action: NetworkCommand,
    },
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// A routable road graph from an OpenStreetMap PBF extract: drivable ways, one-way
    /// streets, speeds from maxspeed or the rules' per-class table, the largest strongly
    /// connected component.
    #[command(after_help = "Example:\n  zaitaku network build --pbf japan-latest.osm.pbf --out japan.graph")]
    Build {
        /// OpenStreetMap PBF file.
        #[arg(long, help_heading = "Inputs")]
        pbf: PathBuf,
        /// Graph file to write.
        #[arg(long, help_heading = "Outputs")]
        out: PathBuf,
        /// Rules file whose `[network]` table sets the speeds (default: built-in).
        #[arg(long, help_heading = "Inputs")]
        rules: Option<PathBuf>,
    },
}

#[derive(Args)]
#[command(next_help_heading = "Inputs")]
struct InputArgs {
    /// Scenario file (TOML): inputs and edits; the flags below override its inputs.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Municipal polygons, GeoJSON in the N03 layout.
    #[arg(long)]
    municipalities: Option<PathBuf>,
    /// Population (repeatable; a zip holding one table is read as that table): mesh CSV,
    /// e-Stat census mesh files as downloaded, or projections (将来推計人口メッシュ, with
    /// --year). Without it, demand is area on a 500 m grid.
    #[arg(long)]
    population: Vec<PathBuf>,
    /// Institutions (repeatable): CSV or GeoJSON points, P04, or the health ministry's
    /// 医療情報ネット open-data facility files as downloaded (zip or CSV).
    #[arg(long)]
    institutions: Vec<PathBuf>,
    /// Regional health bureau notification list, xlsx (施設基準の届出受理医療機関名簿,
    /// repeatable): 支援診/支援病 designations joined to institutions by number, or to
    /// open-data facilities by name and address.
    #[arg(long)]
    notifications: Vec<PathBuf>,
    /// Regions CSV (municipality_code,region_code,region_name) or A38: adds region-level rows.
    #[arg(long)]
    regions: Option<PathBuf>,
    /// Rules TOML (default: built-in; see `zaitaku rules --default`).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Year of projected population files (national land data 将来推計人口メッシュ).
    #[arg(long)]
    year: Option<u16>,
    /// e-Stat value columns, overriding the choice by label: TOTAL,AGED65[,AGED75[,AGED0_14]]
    /// or total=..,aged65=..,aged75=..,aged0_14=.., each a code suffix (016), a column code
    /// (T000847016) or a label (６５歳以上人口総数). Default: chosen by the label row.
    #[arg(long)]
    estat_columns: Option<String>,
    /// Property holding the municipality code.
    #[arg(long, default_value = "N03_007")]
    code_key: String,
    /// Property holding the municipality name.
    #[arg(long, default_value = "N03_004")]
    name_key: String,
    /// Property appended to the name when present (ward of a designated city).
    #[arg(long, default_value = "N03_005")]
    name_suffix_key: String,
    /// Property holding the county or designated city (N03 before 2024: a ward's city).
    #[arg(long, default_value = "N03_003")]
    city_key: String,
    /// Property holding the prefecture name.
    #[arg(long, default_value = "N03_001")]
    prefecture_key: String,
    /// Designated cities (政令指定都市) by ward (`wards`) or each as one unit (`whole`).
    #[arg(long, value_parser = ["wards", "whole"], default_value = "wards")]
    designated_cities: String,
    /// Road graph (`zaitaku network build`): travel-time reach (every analysis).
    #[arg(long, help_heading = "Reach")]
    network: Option<PathBuf>,
    /// Travel times computed elsewhere, CSV `origin_id,destination_id,minutes` (institution
    /// id, mesh code): travel-time reach without a graph (every analysis).
    #[arg(long, help_heading = "Reach")]
    od_matrix: Option<PathBuf>,
}

#[derive(Args)]
#[command(next_help_heading = "Analysis")]
struct CatchmentArgs {
    /// Providers of each required role an area must hold inside it.
    #[arg(long, default_value_t = 1)]
    min_providers: u32,
    /// Share of an area's demand its own providers must cover, per function (0-1).
    #[arg(long, default_value_t = 0.9)]
    min_share: f64,
    /// Demand an area must hold (in the rules' demand column).
    #[arg(long, default_value_t = 0.0)]
    min_demand: f64,
    /// Let catchments cross prefecture borders.
    #[arg(long)]
    cross_prefecture: bool,
    /// Seed of the randomised search (same seed, same answer).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Boundaries closer than this many metres count as touching.
    #[arg(long, default_value_t = 1.0)]
    snap_m: f64,
    /// Randomised constructions per prefecture first; then rounds of half as many while a
    /// round finds more catchments (or fewer failing), up to --max-iterations.
    #[arg(long, default_value_t = 100)]
    iterations: usize,
    /// Most randomised constructions per prefecture.
    #[arg(long, default_value_t = 2_000)]
    max_iterations: usize,
}

impl CatchmentArgs {
    fn params(&self) -> zaitaku::Result<zaitaku::catchments::Params> {
        let usage = |m: String| Err(Error::Usage(m));
        if !(0.0..=1.0).contains(&self.min_share) {
            return usage(format!("--min-share {} must lie between 0 and 1", self.min_share));
        }
        if !(self.min_demand >= 0.0 && self.min_demand.is_finite()) {
            return usage(format!(
                "--min-demand {} must be a number of at least 0",
                self.min_demand
            ));
        }
        if !(self.snap_m >= 0.0 && self.snap_m <= 1000.0) {
            return usage(format!("--snap-m {} must lie between 0 and 1000 metres", self.snap_m));
        }
        if self.iterations == 0 {
            return usage("--iterations must be at least 1".into());
        }
        Ok(zaitaku::catchments::Params {
            min_providers: self.min_providers,
            min_share: self.min_share,
            min_demand: self.min_demand,
            cross_prefecture: self.cross_prefecture,
            seed: self.seed,
            snap_m: self.snap_m,
            iterations: self.iterations,
            max_iterations: self.max_iterations.max(self.iterations),
        })
    }
}

#[derive(Args)]
#[command(next_help_heading = "Reach")]
struct DecayArgs {
    /// E2SFCA distance decay (default: the rules file's [access], else step).
    #[arg(long, value_enum)]
    decay: Option<DecayKind>,
    /// Step decay as "km:weight,..." with increasing km and decreasing weights; minutes by
    /// road (default: the thirds of each role's reach weighted 1, 0.68, 0.22).
    #[arg(long)]
    steps: Option<String>,
    /// Gaussian decay's sigma, km; minutes by road (default 8).
    #[arg(long)]
    sigma: Option<f64>,
}

/// How progress is shown.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum ProgressMode {
    /// Bars on a terminal, nothing when stderr is piped.
    Bar,
    /// One JSON object per line on stderr.
    Json,
}

/// The order of AccessMod's fill.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum FillOrder {
    /// Largest capacity first.
    Capacity,
    /// By institution id.
    Id,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum CandidateKind {
    Institutions,
    Cells,
    Both,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum DecayKind {
    Step,
    Gaussian,
}

impl DecayArgs {
    /// The decay the command line asks for; `None` leaves it to the rules file.
    fn decay(&self) -> zaitaku::Result<Option<Decay>> {
        let usage = |flag: &str, e: String| Error::Usage(format!("{flag}: {e}"));
        let gaussian = self.decay == Some(DecayKind::Gaussian) || (self.decay.is_none() && self.sigma.is_some());
        if gaussian {
            let sigma = self.sigma.unwrap_or(8.0);
            return Decay::gaussian(sigma, 1000.0)
                .map(Some)
                .map_err(|e| usage("--sigma", e));
        }
        match &self.steps {
            Some(text) => parse_steps(text)
                .map(Some)
                .map_err(|e| usage(&format!("--steps \"{text}\""), e)),
            None if self.decay == Some(DecayKind::Step) => Ok(Some(Decay::default())),
            None => Ok(None),
        }
    }
}

/// Reads "5:1,10:0.68,16:0.22" (km:weight) into a decay in metres.
fn parse_steps(text: &str) -> Result<Decay, String> {
    let mut steps = Vec::new();
    for (n, part) in text.split(',').enumerate() {
        let (b, w) = part
            .split_once(':')
            .ok_or(format!("step {} '{part}' is not km:weight", n + 1))?;
        let b: f64 = b
            .trim()
            .parse()
            .map_err(|_| format!("step {}: '{b}' is not a number of km", n + 1))?;
        let w: f64 = w
            .trim()
            .parse()
            .map_err(|_| format!("step {}: '{w}' is not a weight", n + 1))?;
        steps.push((b, w));
    }
    Decay::from_steps(&steps, 1000.0)
}

impl InputArgs {
    fn sources(&self) -> zaitaku::Result<InputSources> {
        let read_all = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| Source::read(p))
                .collect::<zaitaku::Result<Vec<_>>>()
        };
        let scenario = self
            .scenario
            .as_deref()
            .map(zaitaku::inputs::scenario::load_scenario)
            .transpose()?;
        let s = scenario.clone().unwrap_or_default();
        let pick = |flag: &[PathBuf], file: &[PathBuf]| if flag.is_empty() { file.to_vec() } else { flag.to_vec() };
        // An optional file: the flag's, else the scenario's.
        let optional = |flag: &Option<PathBuf>, file: &Option<PathBuf>| {
            flag.as_ref().or(file.as_ref()).map(|p| Source::read(p)).transpose()
        };
        let municipalities = self
            .municipalities
            .clone()
            .or(s.municipalities.clone())
            .ok_or_else(|| Error::Usage("--municipalities is required (or a --scenario naming them)".into()))?;
        let institutions = pick(&self.institutions, &s.institutions);
        if institutions.is_empty() {
            return Err(Error::Usage(
                "--institutions is required (or a --scenario naming them)".into(),
            ));
        }
        Ok(InputSources {
            municipalities: Source::read(&municipalities)?,
            population: pick(&self.population, &s.population)
                .iter()
                .map(|p| Source::read_table(p))
                .collect::<zaitaku::Result<Vec<_>>>()?,
            institutions: read_all(&institutions)?,
            rules: optional(&self.rules, &s.rules)?,
            regions: optional(&self.regions, &s.regions)?,
            keys: MunicipalityKeys {
                code: self.code_key.clone(),
                prefecture: self.prefecture_key.clone(),
                name: self.name_key.clone(),
                name_suffix: self.name_suffix_key.clone(),
                city: self.city_key.clone(),
                whole_designated_cities: self.designated_cities == "whole",
            },
            year: self.year.or(s.year),
            network: optional(&self.network, &s.network)?,
            od_matrix: self.od_matrix.as_deref().map(Source::read).transpose()?,
            notifications: read_all(&self.notifications)?,
            estat_columns: self
                .estat_columns
                .as_deref()
                .map(zaitaku::inputs::population::EstatColumns::parse)
                .transpose()
                .map_err(|e| Error::Usage(format!("--estat-columns {e}")))?,
            scenario,
        })
    }
}

fn main() -> ExitCode {
    // Output piped into `head` and closed: end quietly, as command-line tools do, rather
    // than fail on the next line printed.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Memory freed is handed back to the system lazily (reset, which it reclaims when it needs
    // the pages), not decommitted at once: decommitted pages fault in again, zeroed, when the
    // next stage allocates, and on the national data that was 0.6-0.7 s of system time of
    // 13 core-seconds in `catchments`. MIMALLOC_PURGE_DECOMMITS still decides when set.
    // SAFETY: a plain option setter, called before any thread starts.
    unsafe {
        libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DECOMMITS, 0);
    }
    let cli = Cli::parse();
    match zaitaku::outputs::clean_up_on_interrupt().and_then(|()| execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            eprintln!("zaitaku: error: {message}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                // Causes the message already quotes are not repeated.
                let text = cause.to_string();
                if !message.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                source = cause.source();
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// A finished command's data, left to the end of the process: the system takes the memory
/// back at once, where dropping every boundary and institution one by one takes a tenth of a
/// second of a national run. Only data goes here (no files or folders to clean up).
fn leave<T>(data: T) {
    std::mem::forget(data);
}

fn execute(cli: Cli) -> zaitaku::Result<()> {
    if let Some(n) = cli.threads {
        if n == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(format!("cannot start {n} threads: {e}")))?;
    }
    let progress = match (cli.quiet, cli.progress) {
        (true, _) => Progress::Quiet,
        (false, ProgressMode::Json) => Progress::Json,
        (false, ProgressMode::Bar) => Progress::Terminal,
    };
    match cli.command {
        Command::Inspect { file } => {
            print!("{}", zaitaku::inspect::inspect(&Source::read_table(&file)?)?);
            Ok(())
        }
        Command::Network {
            action: NetworkCommand::Build { pbf, out, rules },
        } => {
            let rules = rules.as_deref().map(Source::read).transpose()?;
            let (graph, written) = run::network_build(&Source::read(&pbf)?, rules.as_ref(), &out, progress)?;
            print!("{}", run::network_table(&graph));
            println!("\nWrote {}", written.display());
            Ok(())
        }
        Command::Rules { .. } => {
            print!("{}", zaitaku::inputs::rules::DEFAULT_RULES);
            Ok(())
        }
        Command::Coverage {
            inputs,
            years: Some(years),
            out,
        } => {
            let sources = inputs.sources()?;
            let years = run::parse_years(&years, &sources)?;
            let (run, per_year) = run::coverage_years(&sources, &years, &out, progress)?;
            print!("{}", run::coverage_table(&run));
            println!("\nShare covered per year (whole input):\n");
            print!("{}", run::years_table(&run.study, &per_year));
            print_written(&out, &run.written);
            Ok(())
        }
        Command::Coverage { inputs, out, .. } => {
            let sources = inputs.sources()?;
            let run = run::coverage(&sources, &out, progress)?;
            print!("{}", run::coverage_table(&run));
            print_written(&out, &run.written);
            leave((sources, run));
            Ok(())
        }
        Command::Access { inputs, decay, out } => {
            let decay = decay.decay()?;
            let sources = inputs.sources()?;
            let (study, run) = run::access(&sources, &out, progress, decay.as_ref())?;
            print!("{}", run::access_table(&study, &run));
            print_written(&out, &run.written);
            leave((sources, study, run));
            Ok(())
        }
        Command::Suggest {
            inputs,
            function,
            role,
            sites,
            candidates,
            out,
        } => {
            let sources = inputs.sources()?;
            let which = match candidates {
                CandidateKind::Institutions => zaitaku::suggest::Candidates::Institutions,
                CandidateKind::Cells => zaitaku::suggest::Candidates::Cells,
                CandidateKind::Both => zaitaku::suggest::Candidates::Both,
            };
            let (study, s, written) = run::suggest(&sources, &out, progress, &function, role.as_deref(), sites, which)?;
            print!("{}", run::suggest_table(&study, &s));
            print_written(&out, &written);
            Ok(())
        }
        Command::Serve {
            inputs,
            min_share,
            port,
            bind,
        } => {
            let sources = inputs.sources()?;
            let header = workbench_header(&inputs);
            let study = zaitaku::study::load(&sources, progress)?;
            let bench = zaitaku::workbench::Workbench::new(study, header, min_share, progress)?;
            let running = zaitaku::serve::start(bench, std::net::SocketAddr::new(bind, port), 4)?;
            println!("zaitaku serve: open {} in a browser (Ctrl-C to stop)", running.url());
            let _ = std::io::Write::flush(&mut std::io::stdout());
            running.wait();
            Ok(())
        }
        Command::Capacity {
            inputs,
            need_rate,
            order,
            out,
        } => {
            let sources = inputs.sources()?;
            let order = order.map(|o| match o {
                FillOrder::Capacity => zaitaku::capacity::Order::Capacity,
                FillOrder::Id => zaitaku::capacity::Order::Id,
            });
            let run = run::capacity(&sources, need_rate.as_deref(), order, &out, progress)?;
            print!("{}", run::capacity_table(&run.study, &run.capacity));
            print_written(&out, &run.written);
            let stages: Vec<String> = run.stages.iter().map(|(n, t)| format!("{n} {t:.2} s")).collect();
            println!("\ntime: {}", stages.join(", "));
            leave((sources, run));
            Ok(())
        }
        Command::Criticality { inputs, top, out } => {
            let sources = inputs.sources()?;
            let (study, c, written) = run::criticality(&sources, &out, progress)?;
            print!("{}", run::criticality_table(&study, &c, top));
            print_written(&out, &written);
            Ok(())
        }
        Command::Compare {
            base,
            alt,
            min_share,
            out,
        } => {
            if !(0.0..=1.0).contains(&min_share) {
                return Err(Error::Usage(format!(
                    "--min-share {min_share} must lie between 0 and 1"
                )));
            }
            let run = run::compare(&base, &alt, &out, progress, min_share)?;
            print!("{}", run::compare_table(&run, min_share));
            print_written(&out, &run.written);
            Ok(())
        }
        Command::Catchments {
            inputs,
            floors,
            allow_partial,
            out,
        } => {
            let params = floors.params()?;
            let sources = inputs.sources()?;
            let (study, run) = run::catchments(&sources, &out, progress, &params, allow_partial)?;
            print!("{}", run::catchments_table(&study, &run));
            print_written(&out, &run.written);
            leave((sources, study, run));
            Ok(())
        }
        Command::Report {
            inputs,
            floors,
            allow_partial,
            out,
        } => {
            let params = floors.params()?;
            let mut sources = inputs.sources()?;
            let run = run::report(&mut sources, &out, progress, &params, allow_partial)?;
            print!("{}", run::coverage_table(&run.coverage));
            if let Some(c) = &run.catchments {
                println!();
                print!("{}", run::catchments_table(&run.coverage.study, c));
            }
            print_written(&out, &run.written);
            let stages: Vec<String> = run.stages.iter().map(|(n, t)| format!("{n} {t:.2} s")).collect();
            println!("\nreport time: {}", stages.join(", "));
            println!(
                "\nOpen {} in a browser (offline), or {} in QGIS (every layer styled).",
                out.join("report.html").display(),
                out.join("zaitaku.gpkg").display()
            );
            leave((sources, run));
            Ok(())
        }
        Command::Indicators {
            inputs,
            catalogue,
            table,
            targets,
            out,
        } => {
            let sources = inputs.sources()?;
            let catalogue = catalogue.as_deref().map(Source::read).transpose()?;
            let tables = table
                .iter()
                .map(|p| Source::read(p))
                .collect::<zaitaku::Result<Vec<_>>>()?;
            let targets = targets.as_deref().map(Source::read).transpose()?;
            let run = run::indicators(&sources, catalogue.as_ref(), &tables, targets.as_ref(), &out, progress)?;
            print!("{}", run::indicators_table(&run));
            print_written(&out, &run.written);
            Ok(())
        }
        Command::Demo { out } => {
            let (run, mut out_dir) =
                run::coverage_keeping(&zaitaku::demo::sources(), &out, progress, true, &|_| Ok(()))?;
            // The demo's analyses are committed one by one (each replaces its own files whole).
            out_dir.commit()?;
            let access = run::access_on(&run.study, Some(&run.reach), None, &out, progress, None)?;
            let catalogue = zaitaku::inputs::catalogue::builtin_catalogue();
            let indicators = run::indicators_on(&run.study, &catalogue, &Default::default(), &[], &run.coverage, &out)?;
            let catchments = run::catchments_into(
                &run.study,
                &zaitaku::coverage::Served::of(&run.reach, &run.coverage),
                Some(&mut out_dir),
                &out,
                progress,
                &zaitaku::catchments::Params::default(),
                None,
                None,
            )?;
            // Capacity: need served under providers' capacities, AccessMod's fill beside it.
            let (capacity, capacity_written) = run::capacity_into(
                &run.study,
                None,
                Some(zaitaku::capacity::Order::Capacity),
                Some(&catchments.located),
                run.nearest.as_ref().map(|n| (&run.reach, n)),
                &mut out_dir,
                progress,
            )?;
            let (_, report_written) =
                run::report_into(&run, Some(&catchments), Some(&capacity), &mut out_dir, progress)?;
            let (suggestion, suggest_written) = run::suggest_on(
                &run.study,
                &run.reach,
                &run.coverage,
                &out,
                "acute",
                None,
                5,
                zaitaku::suggest::Candidates::Both,
            )?;
            // Which institutions alone keep people covered.
            let (critical, critical_written) = run::criticality_on(&run.study, &run.reach, &run.coverage, &out)?;
            // What the suggested sites would change: the study against itself with them.
            let compared = run::compare_on(
                ("demo study", "suggested_scenario.toml"),
                &run.study,
                &run.reach,
                &run.coverage,
                &out.join("suggested_scenario.toml"),
                &out.join("compare"),
                0.9,
            )?;
            // Future demand: coverage in every year of the projection with reach measured
            // once, and catchments proposed for the last year, checked in the others.
            let future = out.join("future");
            let years = zaitaku::demo::PROJECTION_YEARS;
            let (trend, trend_years) =
                run::coverage_years(&zaitaku::demo::projection_sources(years[0]), &years, &future, progress)?;
            let last = years[years.len() - 1];
            let future_catchments = run::catchments(
                &zaitaku::demo::projection_sources(last),
                &future,
                progress,
                &zaitaku::catchments::Params::default(),
                false,
            )?;
            // By road: coverage and accessibility in minutes on a synthetic road lattice over
            // the populated cells (written beside the results, to try --network with).
            let by_road = out.join("by_road");
            let road_sources = zaitaku::demo::road_sources();
            let road_run = run::coverage(&road_sources, &by_road, progress)?;
            let road_access = run::access_on(&road_run.study, Some(&road_run.reach), None, &by_road, progress, None)?;
            let (_, road_critical_written) =
                run::criticality_on(&road_run.study, &road_run.reach, &road_run.coverage, &by_road)?;
            let (road_capacity, road_capacity_written) = run::capacity_on(
                &road_run.study,
                None,
                Some(zaitaku::capacity::Order::Capacity),
                &by_road,
                progress,
            )?;
            if let Some(graph) = &road_sources.network {
                let mut dir = zaitaku::outputs::OutDir::create(&by_road)?;
                dir.write_bytes("roads.graph", &graph.bytes)?;
                dir.commit()?;
            }
            println!("zaitaku demo: Nagano prefecture (synthetic municipal boundaries, population and institutions)");
            println!("Share of people aged 65+ within reach of every required role, per function:\n");
            print!("{}", run::coverage_table(&run));
            println!("\nAccessibility (2SFCA, and E2SFCA with Luo and Qi's steps over thirds of each reach), supply per 1,000 aged 65+:\n");
            print!("{}", run::access_table(&run.study, &access));
            println!("\nGuideline indicators:\n");
            print!("{}", run::indicators_table(&indicators));
            println!("\nCatchment areas: the 10 secondary medical regions checked, and contiguous catchments proposed in which\nevery function is self-sufficient (providers of each required role inside, 90 % of demand covered from inside):\n");
            print!("{}", run::catchments_table(&run.study, &catchments));
            println!("\nWhere to add providers for 24-hour response (acute), five sites (maximal covering):\n");
            print!("{}", run::suggest_table(&run.study, &suggestion));
            println!("\nCriticality: per function, the demand that one institution's closure alone would uncover (the three largest):\n");
            print!("{}", run::criticality_table(&run.study, &critical, 3));
            println!("Capacity: need (aged 65+ x each function's need rate) served within reach under providers' capacities\n(an exact maximum flow per role), and AccessMod's facility-by-facility fill beside it:\n");
            print!("{}", run::capacity_table(&run.study, &capacity));
            println!("\nWhat the five sites would change (compare, the study against itself with them):\n");
            print!("{}", run::compare_table(&compared, 0.9));
            println!(
                "\nFuture demand (synthetic projection {}-{}): coverage in every year, and catchments proposed for {last}:\n",
                years[0], last
            );
            print!("{}", run::years_table(&trend.study, &trend_years));
            print!(
                "\n{}",
                run::catchments_table(&future_catchments.0, &future_catchments.1)
            );
            println!(
                "\nBy road (a SYNTHETIC lattice of roads over the populated cells, 25-50 km/h; each role's reach_min):\n"
            );
            print!("{}", run::coverage_table(&road_run));
            println!("\nAccessibility by road (2SFCA within reach_min; E2SFCA over thirds of it), supply per 1,000 aged 65+:\n");
            print!("{}", run::access_table(&road_run.study, &road_access));
            println!("\nCapacity by road (pairs within each role's reach_min):\n");
            print!("{}", run::capacity_table(&road_run.study, &road_capacity));
            let mut written = run.written.clone();
            written.extend(access.written.iter().cloned());
            written.extend(indicators.written.iter().cloned());
            written.extend(catchments.written.iter().cloned());
            written.extend(suggest_written.iter().cloned());
            written.extend(critical_written.iter().cloned());
            written.extend(capacity_written.iter().cloned());
            written.extend(report_written.iter().cloned());
            print_written(&out, &written);
            print_written(&out.join("compare"), &compared.written);
            let mut future_written = trend.written.clone();
            future_written.extend(future_catchments.1.written.iter().cloned());
            print_written(&future, &future_written);
            let mut road_written = road_run.written.clone();
            road_written.extend(road_access.written.iter().cloned());
            road_written.extend(road_critical_written.iter().cloned());
            road_written.extend(road_capacity_written.iter().cloned());
            road_written.push(by_road.join("roads.graph"));
            print_written(&by_road, &road_written);
            println!(
                "\nOpen {} in a browser (offline: tables, maps, an interactive map), {} in QGIS (every layer, styled),\nor the GeoJSON layers: {} (styled by <function>_share), with {} on top for the uncovered mesh squares;\n{} for supply per 1,000 by role; {} for the indicators;\n{} and {} for the proposed catchments against the secondary medical regions;\n{} for the institutions whose closure alone would uncover people (styled by largest_unique);\n{} for the share of the need served under providers' capacities (styled by <function>_served_share).",
                out.join("report.html").display(),
                out.join("zaitaku.gpkg").display(),
                out.join("coverage.geojson").display(),
                out.join("gaps.geojson").display(),
                out.join("access.geojson").display(),
                out.join("indicators.geojson").display(),
                out.join("catchments.geojson").display(),
                out.join("regions.geojson").display(),
                out.join("criticality.geojson").display(),
                out.join("capacity.geojson").display()
            );
            Ok(())
        }
    }
}

/// The first lines of the workbench's scenario: its name, and its inputs as the command
/// line gave them (the scenario as `base`, files as `[inputs]`, absolute paths).
fn workbench_header(inputs: &InputArgs) -> String {
    let abs = |p: &Path| {
        toml::Value::String(
            p.canonicalize()
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string(),
        )
        .to_string()
    };
    let list = |v: &[PathBuf]| v.iter().map(|p| abs(p)).collect::<Vec<_>>().join(", ");
    let mut h = String::from(
        "# Edits made in the zaitaku workbench (zaitaku serve). Compare with its base:\n#   zaitaku compare BASE this.toml --out DIR\nname = \"workbench\"\n",
    );
    if let Some(s) = &inputs.scenario {
        h.push_str(&format!("base = {}\n", abs(s)));
    }
    let mut table = String::new();
    if let Some(m) = &inputs.municipalities {
        table.push_str(&format!("municipalities = {}\n", abs(m)));
    }
    if !inputs.population.is_empty() {
        table.push_str(&format!("population = [{}]\n", list(&inputs.population)));
    }
    if !inputs.institutions.is_empty() {
        table.push_str(&format!("institutions = [{}]\n", list(&inputs.institutions)));
    }
    if let Some(r) = &inputs.regions {
        table.push_str(&format!("regions = {}\n", abs(r)));
    }
    if let Some(r) = &inputs.rules {
        table.push_str(&format!("rules = {}\n", abs(r)));
    }
    if let Some(n) = &inputs.network {
        table.push_str(&format!("network = {}\n", abs(n)));
    }
    if !table.is_empty() {
        h.push_str(&format!("\n[inputs]\n{table}"));
    }
    h
}

fn print_written(out: &Path, written: &[PathBuf]) {
    let mut names: Vec<String> = Vec::new();
    for name in written
        .iter()
        .map(|p| p.strip_prefix(out).unwrap_or(p).to_string_lossy().into_owned())
    {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    println!("\nWrote to {}: {}", out.display(), names.join(", "));
}
