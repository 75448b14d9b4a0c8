//! Progress on stderr: bars drawn on a terminal, silent when stderr is piped or `--quiet`,
//! or one JSON object per line for a program driving zaitaku (`--progress json`: the QGIS
//! plugin turns them into its progress bar).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use std::io::Write;
use std::sync::Mutex;

/// Whether long steps show a bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// A bar on stderr when it is a terminal (indicatif hides it otherwise).
    #[default]
    Terminal,
    /// Never a bar.
    Quiet,
    /// JSON lines on stderr, terminal or not: `{"stage": "reach", "done": 3, "total": 14,
    /// "message": "visiting_nurse"}` for a stage of known length, `{"stage": "reading",
    /// "message": ""}` for one of unknown length; a line whenever the state changes (at most
    /// five a second per stage).
    Json,
}

/// Separates the fields the JSON mode's template renders.
const FIELD: char = '\u{1f}';

impl Progress {
    /// A spinner for a stage whose length is not known in advance.
    pub fn spinner(self, stage: &str) -> ProgressBar {
        let bar = match self {
            Progress::Terminal => ProgressBar::new_spinner(),
            Progress::Quiet => ProgressBar::hidden(),
            Progress::Json => ProgressBar::with_draw_target(None, json_target()),
        };
        let template = match self {
            Progress::Json => format!("{{prefix}}{FIELD}{FIELD}{FIELD}{{msg}}"),
            _ => "{prefix:>12} {spinner} {msg} ({elapsed})".to_string(),
        };
        let style = ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_spinner());
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
            Progress::Json => json_target(),
        };
        let bar = ProgressBar::with_draw_target(Some(len), target);
        let template = match self {
            Progress::Json => format!("{{prefix}}{FIELD}{{pos}}{FIELD}{{len}}{FIELD}{{msg}}"),
            _ => "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})".to_string(),
        };
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(stage.to_string());
        bar
    }
}

fn json_target() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(Box::new(JsonLines::default()), 5)
}

/// A "terminal" that turns each rendered state into one JSON line on stderr: a new stage or
/// message at once, counts at most five times a second, and the last count of a stage.
#[derive(Debug, Default)]
struct JsonLines {
    /// The last line written, its stage and message, and when.
    last: Mutex<(String, String, Option<std::time::Instant>)>,
}

/// The JSON line of a state rendered with the JSON mode's template, with its stage and
/// message and whether it is a stage's last count; `None` for anything else.
fn json_line(rendered: &str) -> Option<(String, String, bool)> {
    let fields: Vec<&str> = rendered.split(FIELD).collect();
    let [stage, done, total, message] = fields[..] else {
        return None;
    };
    let mut o = serde_json::Map::new();
    o.insert("stage".into(), stage.trim().into());
    let mut complete = false;
    if let (Ok(done), Ok(total)) = (done.parse::<u64>(), total.parse::<u64>()) {
        o.insert("done".into(), done.into());
        o.insert("total".into(), total.into());
        complete = done >= total;
    }
    o.insert("message".into(), message.trim_end().into());
    let key = format!("{}{FIELD}{}", stage.trim(), message.trim_end());
    Some((serde_json::Value::Object(o).to_string(), key, complete))
}

impl TermLike for JsonLines {
    fn width(&self) -> u16 {
        // Wide enough that nothing is cut; the filler after a line is ignored.
        1000
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let Some((line, key, complete)) = json_line(s) else {
            return Ok(());
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        let due = last.2.is_none_or(|t| now.duration_since(t).as_millis() >= 200);
        if last.0 != line && (last.1 != key || complete || due) {
            let mut err = std::io::stderr().lock();
            writeln!(err, "{line}")?;
            *last = (line, key, Some(now));
        }
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_states_become_json_lines() {
        let line = |s: &str| json_line(s).map(|x| (x.0, x.2));
        assert_eq!(
            line("reach\u{1f}3\u{1f}14\u{1f}visiting_nurse"),
            Some((
                r#"{"stage":"reach","done":3,"total":14,"message":"visiting_nurse"}"#.to_string(),
                false
            ))
        );
        assert_eq!(
            line("reach\u{1f}14\u{1f}14\u{1f}"),
            Some((
                r#"{"stage":"reach","done":14,"total":14,"message":""}"#.to_string(),
                true
            ))
        );
        assert_eq!(
            line("reading\u{1f}\u{1f}\u{1f}"),
            Some((r#"{"stage":"reading","message":""}"#.to_string(), false))
        );
        // Cursor moves and fillers are not states.
        assert_eq!(json_line("\r"), None);
        assert_eq!(json_line("      "), None);
    }
}
