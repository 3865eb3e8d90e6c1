//! QR codes as SVG, for tickets shown at the door.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as a QR code in SVG, at least 256 pixels wide with the standard quiet zone. Error
/// correction level M survives a scuffed or dimmed phone screen while keeping a 32-character
/// code in a small symbol. `None` only for text too long for any QR version.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_code_becomes_an_svg_document() {
        let image = super::svg("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").expect("an image");
        assert!(image.starts_with("<?xml"), "{}", &image[..40]);
        assert!(image.contains("<svg") && image.contains("<path"));
    }
}
