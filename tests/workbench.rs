//! The workbench's undo and redo beyond the states it keeps: figures after each edit, then
//! undone one by one (states measured again from the base), then redone, must match; and a
//! state measured from the previous one equals one measured from the base.

use zaitaku::progress::Progress;
use zaitaku::workbench::{Change, Workbench};

fn figures(b: &Workbench) -> Vec<(f64, f64, f64)> {
    b.state()
        .diff
        .changes
        .iter()
        .map(|c| (c.alt_covered, c.gained, c.lost))
        .collect()
}

#[test]
fn undo_and_redo_past_the_kept_states_give_the_same_figures() {
    let study = zaitaku::study::load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let mut b = Workbench::new(study.clone(), "name = \"t\"\n".into(), 0.9, Progress::Quiet).unwrap();
    // Institutions whose closure uncovers people, and some whose closure does not.
    let c = b.criticality();
    let mut ids: Vec<String> = Vec::new();
    for e in c.functions.iter().flatten() {
        let id = &study.institutions[e.institution].id;
        if e.unique_demand > 0.0 && !ids.contains(id) && ids.len() < 10 {
            ids.push(id.clone());
        }
    }
    ids.extend(study.institutions.iter().step_by(997).take(4).map(|i| i.id.clone()));
    assert_eq!(ids.len(), 14);
    let mut forward = vec![figures(&b)];
    for id in &ids {
        b.apply(Change::Close {
            ids: vec![id.clone()],
            area: false,
        })
        .unwrap();
        forward.push(figures(&b));
    }
    // Each close loses or keeps coverage, never gains it.
    assert!(forward.iter().all(|f| f.iter().all(|x| x.1 == 0.0)));
    assert!(forward.last().unwrap().iter().any(|x| x.2 > 0.0));
    for k in (0..ids.len()).rev() {
        assert!(b.undo().unwrap());
        assert_eq!(figures(&b), forward[k], "after undoing to {k} edits");
    }
    assert!(!b.undo().unwrap());
    for (k, expected) in forward.iter().enumerate().skip(1) {
        assert!(b.redo().unwrap());
        assert_eq!(&figures(&b), expected, "after redoing to {k} edits");
    }
    assert!(!b.redo().unwrap());
    // All the closures at once, measured from the base in one step, give the same.
    let mut once = Workbench::new(study, "name = \"t\"\n".into(), 0.9, Progress::Quiet).unwrap();
    once.apply(Change::Close { ids, area: true }).unwrap();
    assert_eq!(figures(&once), forward[forward.len() - 1]);
}

#[test]
fn an_added_institution_may_not_take_an_existing_id() {
    let study = zaitaku::study::load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let taken = study.institutions[0].id.clone();
    let text = format!(
        "name = \"t\"\n[[edits]]\naction = \"add\"\ninstitutions = [{{ id = \"{taken}\", name = \"x\", kind = \"clinic\", lat = 36.6, lon = 138.2 }}, {{ id = \"NEW-9\", name = \"y\", kind = \"clinic\", lat = 36.6, lon = 138.2 }}]\n"
    );
    let (edits, _) = zaitaku::inputs::scenario::edits_from_str(&text, "t.toml").unwrap();
    let mut s = study.clone();
    let e = zaitaku::study::edits::apply_edits(&mut s, &edits)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("duplicate id '{taken}'")), "{e}");
    // A new id alone is added.
    let text = text.replace(&format!("id = \"{taken}\""), "id = \"NEW-8\"");
    let (edits, _) = zaitaku::inputs::scenario::edits_from_str(&text, "t.toml").unwrap();
    let mut s = study.clone();
    zaitaku::study::edits::apply_edits(&mut s, &edits).unwrap();
    assert_eq!(s.institutions.len(), study.institutions.len() + 2);
}
