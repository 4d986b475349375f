//! The mission routines open a product a script names through the session's
//! archive, never through whatever function the script calls `ens_open`:
//! a script that defines its own `ens_open` changes nothing they open.

use crate::common::tutorial::{self, demo_truth};

/// Each routine is called twice, with a product's name (which the routine
/// must look up itself) and with its `ens_find` handle, and both must open
/// the same product; the script's own `ens_open` throws if it is ever called.
const SCRIPT: &str = r#"
fn ens_open(p) { throw `the script's ens_open was called with ${p}`; }

let s1 = ens_find(#{ mission: "Sentinel-1" })[0];
print(`S1 ${s1.name} -> ${s1_product(s1.name).name == s1_product(s1).name}`);
let s2 = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A" })[0];
print(`S2 ${s2.name} -> ${s2_product(s2.name).name == s2_product(s2).name}`);
let s3 = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___" })[0];
print(`S3 ${s3.name} -> ${s3_product(s3.name).name == s3_product(s3).name}`);
let s5p = ens_find(#{ mission: "Sentinel-5P" })[0];
print(`S5P ${s5p.name} -> ${s5p_product(s5p.name).name == s5p_product(s5p).name}`);
let sst = ens_find(#{ main_class: "Copernicus-marine" })[0];
print(`GMPE ${sst.name} -> ${gmpe_date(sst.name) == gmpe_date(sst)}`);
let lai = ens_find(#{ main_class: "Copernicus-land", product_type: "LAI" })[0];
print(`CGLS ${lai.name} -> ${cgls_date(lai.name) == cgls_date(lai)}`);
"#;

#[test]
fn a_script_defined_ens_open_does_not_change_what_mission_routines_open() {
    demo_truth(&[]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("own_ens_open.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = tutorial::run_script(&script);
    for mission in ["S1", "S2", "S3", "S5P", "GMPE", "CGLS"] {
        let line = out.line(&format!("{mission} "));
        assert!(line.ends_with("-> true"), "{line}\n{}", out.stderr);
    }
}
