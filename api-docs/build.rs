//! The reference page embeds Swagger UI from the npm package `swagger-ui-dist`, pinned in the
//! workspace's package-lock.json. Without `npm ci` the files are missing; say so plainly rather
//! than let `include_bytes!` fail with a bare path.

use std::path::Path;

/// The files `src/page.rs` embeds, relative to `node_modules/swagger-ui-dist`.
const ASSETS: &[&str] = &[
    "package.json",
    "swagger-ui-bundle.js",
    "swagger-ui-bundle.js.LICENSE.txt",
    "swagger-ui.css",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("../node_modules/swagger-ui-dist");
    let missing: Vec<&str> = ASSETS.iter().copied().filter(|file| !dist.join(file).is_file()).collect();
    if !missing.is_empty() {
        panic!(
            "\n\nThe API reference page (GET /docs) embeds Swagger UI from node_modules/swagger-ui-dist, \
             which is missing {}.\nInstall it first: run `npm ci` in the workspace root \
             (`make run` and `make test` do this for you).\n\n",
            missing.join(", ")
        );
    }
    println!("cargo:rerun-if-changed=build.rs");
    for file in ASSETS {
        println!("cargo:rerun-if-changed={}", dist.join(file).display());
    }
    let package =
        std::fs::read_to_string(dist.join("package.json")).expect("reading swagger-ui-dist/package.json");
    let version = package
        .lines()
        .find_map(|line| line.trim().strip_prefix("\"version\": \""))
        .and_then(|rest| rest.split('"').next())
        .expect("swagger-ui-dist/package.json names its version");
    println!("cargo:rustc-env=SWAGGER_UI_VERSION={version}");
}
