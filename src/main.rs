//! The `zaitaku` command line: parses arguments, calls one library function per command,
//! and maps errors to exit codes (0 success, 2 bad usage or input, 1 anything else).

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zaitaku::inputs::municipalities::MunicipalityKeys;
use zaitaku::inputs::{InputSources, Source};
use zaitaku::progress::Progress;
use zaitaku::{run, Error};

#[derive(Parser)]
#[command(
    name = "zaitaku",
    version,
    about = "Where home medical care reaches: per-function coverage for Japanese health planning"
)]
struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run coverage on the demo data compiled into the binary (Nagano, synthetic).
    #[command(after_help = "Example:\n  zaitaku demo --out zaitaku-demo")]
    Demo {
        /// Output folder.
        #[arg(long, default_value = "zaitaku-demo")]
        out: PathBuf,
    },
    /// Per-function coverage: which demand has every required role within reach.
    #[command(
        after_help = "Example:\n  zaitaku coverage --municipalities n03.geojson --population mesh.csv \\\n    --institutions institutions.csv --out results"
    )]
    Coverage {
        #[command(flatten)]
        inputs: InputArgs,
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the rules file.
    #[command(after_help = "Example:\n  zaitaku rules --default > rules.toml")]
    Rules {
        /// The built-in rules, with comments citing the guideline.
        #[arg(long, required = true)]
        default: bool,
    },
}

#[derive(Args)]
struct InputArgs {
    /// Municipal polygons, GeoJSON in the N03 layout.
    #[arg(long)]
    municipalities: PathBuf,
    /// Population mesh CSV (repeatable). Without it, demand is area on a 500 m grid.
    #[arg(long)]
    population: Vec<PathBuf>,
    /// Institutions, CSV or GeoJSON points (repeatable).
    #[arg(long, required = true)]
    institutions: Vec<PathBuf>,
    /// Rules TOML (default: built-in; see `zaitaku rules --default`).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Property holding the municipality code.
    #[arg(long, default_value = "N03_007")]
    code_key: String,
    /// Property holding the municipality name.
    #[arg(long, default_value = "N03_004")]
    name_key: String,
    /// Property appended to the name when present (ward of a designated city).
    #[arg(long, default_value = "N03_005")]
    name_suffix_key: String,
    /// Property holding the prefecture name.
    #[arg(long, default_value = "N03_001")]
    prefecture_key: String,
}

impl InputArgs {
    fn sources(&self) -> zaitaku::Result<InputSources> {
        let read_all = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| Source::read(p))
                .collect::<zaitaku::Result<Vec<_>>>()
        };
        Ok(InputSources {
            municipalities: Source::read(&self.municipalities)?,
            population: read_all(&self.population)?,
            institutions: read_all(&self.institutions)?,
            rules: self.rules.as_deref().map(Source::read).transpose()?,
            keys: MunicipalityKeys {
                code: self.code_key.clone(),
                prefecture: self.prefecture_key.clone(),
                name: self.name_key.clone(),
                name_suffix: self.name_suffix_key.clone(),
            },
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zaitaku: error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
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
    let progress = if cli.quiet { Progress::Quiet } else { Progress::Terminal };
    match cli.command {
        Command::Rules { .. } => {
            print!("{}", zaitaku::inputs::rules::DEFAULT_RULES);
            Ok(())
        }
        Command::Coverage { inputs, out } => {
            let sources = inputs.sources()?;
            let run = run::coverage(&sources, &out, progress)?;
            print!("{}", run::coverage_table(&run));
            print_written(&out, &run.written);
            Ok(())
        }
        Command::Demo { out } => {
            let run = run::coverage(&zaitaku::demo::sources(), &out, progress)?;
            println!("zaitaku demo: Nagano prefecture (synthetic municipal boundaries, population and institutions)");
            println!("Share of people aged 65+ within reach of every required role, per function:\n");
            print!("{}", run::coverage_table(&run));
            print_written(&out, &run.written);
            println!(
                "\nOpen in QGIS: {} (style by <function>_share), with {} on top for the uncovered mesh squares.",
                out.join("coverage.geojson").display(),
                out.join("gaps.geojson").display()
            );
            Ok(())
        }
    }
}

fn print_written(out: &Path, written: &[PathBuf]) {
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    println!("\nWrote to {}: {}", out.display(), names.join(", "));
}
