//! Progress bars on stderr: drawn on a terminal, silent when stderr is piped or `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether long steps show a bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// A bar on stderr when it is a terminal (indicatif hides it otherwise).
    #[default]
    Terminal,
    /// Never a bar.
    Quiet,
}

impl Progress {
    /// A spinner for a stage whose length is not known in advance.
    pub fn spinner(self, stage: &str) -> ProgressBar {
        let bar = match self {
            Progress::Terminal => ProgressBar::new_spinner(),
            Progress::Quiet => ProgressBar::hidden(),
        };
        let style = ProgressStyle::with_template("{prefix:>12} {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(stage.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }

    /// A bar of `len` steps for one named stage.
    pub fn bar(self, len: u64, stage: &str) -> ProgressBar {
        let target = match self {
            Progress::Terminal => ProgressDrawTarget::stderr(),
            Progress::Quiet => ProgressDrawTarget::hidden(),
        };
        let bar = ProgressBar::with_draw_target(Some(len), target);
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(stage.to_string());
        bar
    }
}
