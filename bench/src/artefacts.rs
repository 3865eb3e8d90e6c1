//! Artefact size: each release binary zipped as `bootstrap` (deflate, as a Lambda deployment
//! package holds it), and the peak RSS its cold starts reached.

use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;

use crate::coldstart::{BINARIES, Figures};
use crate::fixtures::Result;
use crate::report::{Report, heading};
use crate::stats::{mb, mib};

/// The size of a zip holding `binary` as an executable `bootstrap`.
fn zipped(binary: &Path) -> Result<u64> {
    let bytes = std::fs::read(binary)?;
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    archive.start_file("bootstrap", options)?;
    archive.write_all(&bytes)?;
    Ok(archive.finish()?.into_inner().len() as u64)
}

pub fn bench(dir: &Path, cold: &[Figures], report: &mut Report) -> Result<()> {
    heading(
        "Artefact size and peak RSS",
        &format!(
            "Each release binary in {} zipped in memory as `bootstrap` (deflate, default level), and the peak RSS\n\
             (VmHWM) its cold-start runs above reached.",
            dir.display()
        ),
    );
    println!(
        "\n    {:<10} {:>12} {:>26} {:>18} {:>14}",
        "binary", "binary", "zipped bootstrap", "peak RSS median", "peak RSS max"
    );
    for binary in BINARIES {
        let path = dir.join(binary);
        let raw = std::fs::metadata(&path)?.len();
        let zip = zipped(&path)?;
        let rss = cold.iter().find(|f| f.binary == *binary).map(|f| &f.peak_rss_kib);
        let (median, max) = match rss {
            Some(r) if !r.is_empty() => (mib(r[r.len() / 2] * 1024), mib(r[r.len() - 1] * 1024)),
            _ => ("n/a".to_owned(), "n/a".to_owned()),
        };
        let zip_size = format!("{} ({})", mb(zip), mib(zip));
        println!("    {binary:<10} {:>12} {zip_size:>26} {median:>18} {max:>14}", mib(raw));
        report.add(
            "size",
            *binary,
            format!("zipped bootstrap {zip_size}, binary {}, peak RSS {median}", mib(raw)),
        );
    }
    Ok(())
}
