//! The QGIS plugin (qgis/zaitaku_processing) in real QGIS: built into its zip by
//! scripts/build_qgis_plugin.sh, unpacked as QGIS's "Install from ZIP" does, and driven
//! headless by qgis/tests/test_plugin.py with this build of zaitaku: every algorithm
//! through `processing.run`, results loaded into a project, cancellation, a missing or too
//! old program, a bad input. Needs Debian's python3-qgis; without it the test says it
//! skipped, except in CI (`CI` set), which installs it.

use std::path::Path;
use std::process::Command;

/// A Python that has QGIS's bindings, if any.
fn python_with_qgis() -> Option<String> {
    ["/usr/bin/python3", "python3"].iter().find_map(|p| {
        let ok = Command::new(p)
            .args(["-c", "import qgis.core"])
            .env("QT_QPA_PLATFORM", "offscreen")
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| p.to_string())
    })
}

#[test]
fn qgis_plugin_runs_every_algorithm_headless() {
    let Some(python) = python_with_qgis() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs QGIS's Python bindings (apt-get install python3-qgis)"
        );
        eprintln!(
            "skipped: the QGIS plugin's test needs QGIS's Python bindings, which are not installed \
             (Debian: apt-get install python3-qgis); CI runs it"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let built = Command::new(root.join("scripts/build_qgis_plugin.sh"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let zip = String::from_utf8_lossy(&built.stdout).trim().to_string();
    assert!(
        zip.ends_with(&format!("zaitaku_processing-{}.zip", env!("CARGO_PKG_VERSION"))),
        "{zip}"
    );
    // Unpacked into a plugins folder, as QGIS installs a zip.
    let plugins = dir.path().join("plugins");
    let unpacked = Command::new(&python)
        .args(["-m", "zipfile", "-e", &zip])
        .arg(&plugins)
        .output()
        .unwrap();
    assert!(
        unpacked.status.success(),
        "{}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
    for file in ["metadata.txt", "icon.svg", "LICENSE", "__init__.py", "provider.py"] {
        assert!(
            plugins.join("zaitaku_processing").join(file).exists(),
            "{file} not in the zip"
        );
    }
    let o = Command::new(&python)
        .arg(root.join("qgis/tests/test_plugin.py"))
        .env("ZAITAKU_BINARY", env!("CARGO_BIN_EXE_zaitaku"))
        .env("ZAITAKU_PLUGIN_PATH", &plugins)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("QGIS plugin tests: passed"),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Every algorithm ran and was checked.
    for alg in [
        "coverage",
        "access",
        "catchments",
        "capacity",
        "criticality",
        "suggest",
        "compare",
        "report",
    ] {
        assert!(text.contains(&format!("ok     {alg}: ")), "{alg} not checked:\n{text}");
    }
}
