//! An interrupted run leaves the output folder with the previous run's files or the new
//! run's, never a mix and never a half file: `zaitaku report` (coverage, catchments,
//! GeoPackage, maps, page: dozens of files) is killed with SIGKILL at moments spread over
//! its run, and the folder is compared byte for byte with both complete results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

/// Every file under `dir` with its bytes, by relative path; run-dependent timings left out.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if rel != "timings.json" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn restore(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    let _ = std::fs::remove_dir_all(dir);
    for (rel, bytes) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn report(out: &Path, rules: Option<&Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zaitaku"));
    c.args(["report", "--quiet", "--scenario"])
        .arg(fixture("scenarios/nagano_base.toml"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(r) = rules {
        c.arg("--rules").arg(r);
    }
    c
}

#[test]
fn a_killed_run_leaves_the_old_files_or_the_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    // The new run uses a 12 km home-visit reach, so nearly every file differs from the old.
    let default = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["rules", "--default"])
        .output()
        .unwrap();
    let rules = tmp.path().join("rules12.toml");
    std::fs::write(
        &rules,
        String::from_utf8(default.stdout)
            .unwrap()
            .replace("reach_km = 16.0", "reach_km = 12.0"),
    )
    .unwrap();

    let old_dir = tmp.path().join("old");
    assert!(report(&old_dir, None).status().unwrap().success());
    let old = snapshot(&old_dir);
    let new_dir = tmp.path().join("new");
    let t = Instant::now();
    assert!(report(&new_dir, Some(&rules)).status().unwrap().success());
    let full = t.elapsed();
    let new = snapshot(&new_dir);
    let differing = old.iter().filter(|(k, v)| new.get(*k) != Some(v)).count();
    assert!(
        old.len() > 30 && differing > 20,
        "{} files, {differing} differ",
        old.len()
    );

    let out = tmp.path().join("out");
    let (mut saw_old, mut saw_new) = (0, 0);
    let kills = 12;
    for k in 0..kills {
        restore(&out, &old);
        let mut child = report(&out, Some(&rules)).spawn().unwrap();
        // From early reading to just past the end of a full run.
        std::thread::sleep(full.mul_f64(0.1 + 1.0 * k as f64 / kills as f64));
        let _ = child.kill();
        child.wait().unwrap();
        let now = snapshot(&out);
        let names: Vec<&String> = now.keys().filter(|n| n.contains("/.") || n.starts_with('.')).collect();
        assert!(names.is_empty(), "kill {k}: temporary files in the folder: {names:?}");
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            let mixed: Vec<&String> = now.keys().filter(|n| old.get(*n) != now.get(*n)).take(5).collect();
            panic!(
                "kill {k} after {:?}: a mix of old and new files, e.g. {mixed:?}",
                full.mul_f64(0.1 + k as f64 / kills as f64)
            );
        }
    }
    // Kills landed before the commit (old files kept); a stale stage is swept by the next run.
    assert!(saw_old > 0, "old {saw_old}, new {saw_new}");
    assert!(report(&out, Some(&rules)).status().unwrap().success());
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".zaitaku-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(snapshot(&out), new);
}

/// The folder is swapped in one step, except where the run's working folder is the output
/// folder: a shell standing in it would be left in the swapped-out, deleted copy, so there
/// the new files are moved in. The folder keeps its identity (inode) in that case only; the
/// results are the same either way.
#[cfg(unix)]
#[test]
fn a_run_from_inside_the_output_folder_leaves_the_shell_in_place() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let (outside, inside) = (dir.path().join("outside"), dir.path().join("inside"));
    for out in [&outside, &inside] {
        std::fs::create_dir(out).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
    }
    let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let (before_outside, before_inside) = (inode(&outside), inode(&inside));

    assert!(report(&outside, None).status().unwrap().success());
    let status = report(&inside, None).current_dir(&inside).status().unwrap();
    assert!(status.success());

    assert_ne!(inode(&outside), before_outside, "swapped in one step");
    assert_eq!(inode(&inside), before_inside, "moved in, the working folder kept");
    assert_eq!(snapshot(&outside), snapshot(&inside));
    assert_eq!(std::fs::read_to_string(inside.join("notes.txt")).unwrap(), "mine");
    assert!(snapshot(&inside).contains_key("report.html"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no stage left");
}

/// Ctrl-C (SIGINT) or SIGTERM while a run is writing: the run ends as the signal says, its
/// staging folder is removed, and the output folder keeps its previous files.
#[cfg(unix)]
#[test]
fn an_interrupted_run_cleans_up_its_stage() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let before = snapshot(&out);
    let stage_exists = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains(".zaitaku-"))
    };
    let mut kept_old = 0;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = report(&out, None).spawn().unwrap();
        // Interrupt once the run has started writing into its stage.
        let t = Instant::now();
        while !stage_exists() && t.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(stage_exists(), "no staging folder seen");
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        assert!(!stage_exists(), "signal {signal}: the staging folder was left behind");
        // The previous files; or, had the signal come as the run committed (the interrupt
        // waits for a commit under way), the whole new result.
        let now = snapshot(&out);
        let whole_new = now.len() > 30 && now.contains_key("report.html") && now.contains_key("zaitaku.gpkg");
        assert!(
            now == before || whole_new,
            "signal {signal}: a changed folder, {} files",
            now.len()
        );
        kept_old += usize::from(now == before);
        restore(&out, &before);
    }
    assert!(kept_old > 0, "every interrupt landed after the commit");
}
