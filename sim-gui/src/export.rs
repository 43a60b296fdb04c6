//! Exports: PNG of the current plot (a crop of the window's own screenshot), CSV of its data,
//! and the composed image of `--screenshot`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use image::RgbaImage;

/// The first free `dir/stem-NNN.ext`.
pub fn next_free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    (1..)
        .map(|n| dir.join(format!("{stem}-{n:03}.{ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{stem}.{ext}")))
}

/// Converts egui's screenshot to an image.
pub fn to_rgba(img: &egui::ColorImage) -> RgbaImage {
    let [w, h] = img.size;
    let mut out = RgbaImage::new(w as u32, h as u32);
    for (px, c) in out.pixels_mut().zip(&img.pixels) {
        *px = image::Rgba(c.to_array());
    }
    out
}

/// Crops `img` to `rect` (in points; `pixels_per_point` converts), clamped to the image.
pub fn crop(img: &RgbaImage, rect: egui::Rect, pixels_per_point: f32) -> RgbaImage {
    let (w, h) = img.dimensions();
    let clamp = |v: f32, max: u32| (v * pixels_per_point).round().clamp(0.0, max as f32) as u32;
    let (x0, y0) = (clamp(rect.min.x, w), clamp(rect.min.y, h));
    let (x1, y1) = (clamp(rect.max.x, w), clamp(rect.max.y, h));
    image::imageops::crop_imm(img, x0, y0, x1.saturating_sub(x0).max(1), y1.saturating_sub(y0).max(1)).to_image()
}

/// Places images in a grid of `columns` (row by row), on the background of the first
/// image's top-left pixel.
pub fn compose(images: &[RgbaImage], columns: usize) -> RgbaImage {
    let columns = columns.max(1);
    let cell_w = images.iter().map(|i| i.width()).max().unwrap_or(1);
    let cell_h = images.iter().map(|i| i.height()).max().unwrap_or(1);
    let rows = images.len().div_ceil(columns).max(1);
    let cols = images.len().clamp(1, columns);
    let bg = images
        .first()
        .map_or(image::Rgba([0, 0, 0, 255]), |i| *i.get_pixel(0, 0));
    let mut out = RgbaImage::from_pixel(cell_w * cols as u32, cell_h * rows as u32, bg);
    for (k, img) in images.iter().enumerate() {
        let (x, y) = ((k % columns) as u32 * cell_w, (k / columns) as u32 * cell_h);
        image::imageops::overlay(&mut out, img, i64::from(x), i64::from(y));
    }
    out
}

/// Saves a PNG, creating the folder.
pub fn save_png(path: &Path, img: &RgbaImage) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    img.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("writing {}", path.display()))
}

/// Saves text, creating the folder.
pub fn save_text(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_and_compose() {
        let mut img = RgbaImage::from_pixel(100, 50, image::Rgba([1, 2, 3, 255]));
        img.put_pixel(20, 10, image::Rgba([255, 0, 0, 255]));
        let c = crop(
            &img,
            egui::Rect::from_min_max(egui::pos2(10.0, 5.0), egui::pos2(30.0, 20.0)),
            1.0,
        );
        assert_eq!(c.dimensions(), (20, 15));
        assert_eq!(c.get_pixel(10, 5), &image::Rgba([255, 0, 0, 255]));
        let c2 = crop(
            &img,
            egui::Rect::from_min_max(egui::pos2(5.0, 5.0), egui::pos2(500.0, 500.0)),
            2.0,
        );
        assert_eq!(c2.dimensions(), (90, 40));
        let all = compose(&[img.clone(), c, c2], 2);
        assert_eq!(all.dimensions(), (200, 100));
        let tmp = tempfile::tempdir().unwrap();
        let p = next_free_path(tmp.path(), "plot", "png");
        assert!(p.ends_with("plot-001.png"));
        save_png(&p, &all).unwrap();
        assert!(next_free_path(tmp.path(), "plot", "png").ends_with("plot-002.png"));
        let back = image::open(&p).unwrap().to_rgba8();
        assert_eq!(back.dimensions(), (200, 100));
    }
}
