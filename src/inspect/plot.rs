//! Histogram figures: a grid of panels, one per tensor, titled by name. SVG is written as
//! markup; PNG is drawn into an RGB raster here (text in the public-domain 8×8 bitmap font of
//! the `font8x8` crate, so no system font is needed) and encoded with the `png` crate.

use super::stats::Histogram;
use font8x8::UnicodeFonts;

/// One panel: the title (the tensor's name), a line under it, and the histogram if the tensor
/// has finite values.
#[derive(Clone, Debug)]
pub struct HistogramPanel {
    pub title: String,
    pub subtitle: String,
    pub histogram: Option<Histogram>,
}

const PANEL_WIDTH: usize = 340;
const PANEL_HEIGHT: usize = 220;
const MAX_COLUMNS: usize = 4;
/// The plot area inside a panel: left, top, width, height.
const PLOT: (usize, usize, usize, usize) = (14, 44, 312, 140);
/// The most panels a PNG holds (a 1360 × 56,320 raster, 230 MB); SVG has no limit.
pub const MAX_PNG_PANELS: usize = 1024;
/// Characters of a title that fit a panel (8-pixel glyphs in the PNG).
const TITLE_CHARS: usize = 40;

const BAR_COLOUR: [u8; 3] = [0x4c, 0x72, 0xb0];
const FRAME_COLOUR: [u8; 3] = [0x99, 0x99, 0x99];
const TEXT_COLOUR: [u8; 3] = [0x22, 0x22, 0x22];
const BACKGROUND: [u8; 3] = [0xff, 0xff, 0xff];

fn grid(panels: usize) -> (usize, usize) {
    let columns = panels.clamp(1, MAX_COLUMNS);
    (columns, panels.div_ceil(columns).max(1))
}

/// Shortens `text` to `limit` characters, marking the cut with `..`.
fn fit(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().take(limit.saturating_sub(2)).collect();
    format!("{kept}..")
}

/// Bars as (x, width, height) in plot-area pixels, heights relative to the tallest bin.
fn bars(histogram: &Histogram) -> Vec<(usize, usize, usize)> {
    let (_, _, width, height) = PLOT;
    let bins = histogram.counts.len().max(1);
    let tallest = histogram.counts.iter().copied().max().unwrap_or(0).max(1);
    if bins == 1 {
        // A constant tensor: one narrow bar in the middle rather than a filled box.
        return vec![(width * 4 / 9, width / 9, height)];
    }
    histogram
        .counts
        .iter()
        .enumerate()
        .map(|(index, &count)| {
            let start = index * width / bins;
            let end = (index + 1) * width / bins;
            let bar_height = ((count as u128 * height as u128).div_ceil(tallest as u128)) as usize;
            (start, (end - start).saturating_sub(1).max(1), bar_height)
        })
        .collect()
}

/// A number short enough for a figure: four decimals in the everyday range, else scientific.
pub fn compact_number(value: f64) -> String {
    if value == 0.0 || (1e-3..1e5).contains(&value.abs()) { format!("{value:.4}") } else { format!("{value:.3e}") }
}

fn axis_labels(histogram: &Histogram) -> (String, String) {
    (compact_number(histogram.low), compact_number(histogram.high))
}

fn escape_xml(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\t' || c == '\n' || c >= ' ')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The figure as an SVG document: one `<g class="panel">` per panel, in order.
pub fn svg_figure(panels: &[HistogramPanel]) -> String {
    let (columns, rows) = grid(panels.len());
    let (width, height) = (columns * PANEL_WIDTH, rows * PANEL_HEIGHT);
    let (plot_x, plot_y, plot_width, plot_height) = PLOT;
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
    );
    for (index, panel) in panels.iter().enumerate() {
        let (x, y) = ((index % columns) * PANEL_WIDTH, (index / columns) * PANEL_HEIGHT);
        svg.push_str(&format!("<g class=\"panel\" transform=\"translate({x},{y})\">\n"));
        svg.push_str(&format!("<title>{}</title>\n", escape_xml(&panel.title)));
        svg.push_str(&format!(
            "<text x=\"{plot_x}\" y=\"18\" font-weight=\"bold\" font-size=\"12\">{}</text>\n",
            escape_xml(&fit(&panel.title, TITLE_CHARS + 8))
        ));
        svg.push_str(&format!(
            "<text x=\"{plot_x}\" y=\"34\" fill=\"#555555\">{}</text>\n",
            escape_xml(&fit(&panel.subtitle, TITLE_CHARS + 14))
        ));
        svg.push_str(&format!(
            "<rect x=\"{plot_x}\" y=\"{plot_y}\" width=\"{plot_width}\" height=\"{plot_height}\" fill=\"none\" \
             stroke=\"#999999\"/>\n"
        ));
        match &panel.histogram {
            Some(histogram) => {
                for (bar_x, bar_width, bar_height) in bars(histogram) {
                    svg.push_str(&format!(
                        "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{bar_width}\" height=\"{bar_height}\" \
                         fill=\"#4c72b0\"/>\n",
                        plot_x + bar_x,
                        plot_y + plot_height - bar_height
                    ));
                }
                let (low, high) = axis_labels(histogram);
                let label_y = plot_y + plot_height + 14;
                svg.push_str(&format!("<text x=\"{plot_x}\" y=\"{label_y}\">{low}</text>\n"));
                svg.push_str(&format!(
                    "<text x=\"{}\" y=\"{label_y}\" text-anchor=\"end\">{high}</text>\n",
                    plot_x + plot_width
                ));
            }
            None => svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555555\">no finite values</text>\n",
                plot_x + plot_width / 2,
                plot_y + plot_height / 2
            )),
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// An RGB raster with the drawing operations the figure needs.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas { width, height, pixels: BACKGROUND.repeat(width * height) }
    }

    fn fill(&mut self, x: usize, y: usize, width: usize, height: usize, colour: [u8; 3]) {
        for row in y..(y + height).min(self.height) {
            for column in x..(x + width).min(self.width) {
                let at = (row * self.width + column) * 3;
                self.pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }

    fn frame(&mut self, x: usize, y: usize, width: usize, height: usize, colour: [u8; 3]) {
        self.fill(x, y, width, 1, colour);
        self.fill(x, y + height.saturating_sub(1), width, 1, colour);
        self.fill(x, y, 1, height, colour);
        self.fill(x + width.saturating_sub(1), y, 1, height, colour);
    }

    /// Draws `text` with its top-left corner at (x, y); characters outside the font are `?`.
    fn text(&mut self, x: usize, y: usize, text: &str, colour: [u8; 3]) {
        for (index, character) in text.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS.get(character).or_else(|| font8x8::BASIC_FONTS.get('?')).unwrap_or([0; 8]);
            for (row, bits) in glyph.iter().enumerate() {
                for column in 0..8 {
                    if bits & (1 << column) != 0 {
                        self.fill(x + index * 8 + column, y + row, 1, 1, colour);
                    }
                }
            }
        }
    }
}

/// The figure as PNG bytes, laid out as [`svg_figure`] lays it out.
pub fn png_figure(panels: &[HistogramPanel]) -> Result<Vec<u8>, String> {
    if panels.len() > MAX_PNG_PANELS {
        return Err(format!(
            "{} tensors are too many for one PNG (at most {MAX_PNG_PANELS}); write an .svg instead",
            panels.len()
        ));
    }
    let (columns, rows) = grid(panels.len());
    let mut canvas = Canvas::new(columns * PANEL_WIDTH, rows * PANEL_HEIGHT);
    let (plot_x, plot_y, plot_width, plot_height) = PLOT;
    for (index, panel) in panels.iter().enumerate() {
        let (x, y) = ((index % columns) * PANEL_WIDTH, (index / columns) * PANEL_HEIGHT);
        canvas.text(x + plot_x, y + 8, &fit(&panel.title, TITLE_CHARS - 1), TEXT_COLOUR);
        canvas.text(x + plot_x, y + 24, &fit(&panel.subtitle, TITLE_CHARS - 1), FRAME_COLOUR);
        canvas.frame(x + plot_x, y + plot_y, plot_width, plot_height, FRAME_COLOUR);
        match &panel.histogram {
            Some(histogram) => {
                for (bar_x, bar_width, bar_height) in bars(histogram) {
                    let top = y + plot_y + plot_height - bar_height;
                    canvas.fill(x + plot_x + bar_x, top, bar_width, bar_height, BAR_COLOUR);
                }
                let (low, high) = axis_labels(histogram);
                let label_y = y + plot_y + plot_height + 6;
                canvas.text(x + plot_x, label_y, &low, TEXT_COLOUR);
                let high_x = (x + plot_x + plot_width).saturating_sub(high.chars().count() * 8);
                canvas.text(high_x, label_y, &high, TEXT_COLOUR);
            }
            None => canvas.text(x + plot_x + 90, y + plot_y + plot_height / 2, "no finite values", FRAME_COLOUR),
        }
    }
    let mut bytes = Vec::new();
    let (width, height) = (
        u32::try_from(canvas.width).map_err(|_| "the figure is too wide".to_string())?,
        u32::try_from(canvas.height).map_err(|_| "the figure is too tall".to_string())?,
    );
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|error| format!("cannot encode the PNG: {error}"))?;
    writer.write_image_data(&canvas.pixels).map_err(|error| format!("cannot encode the PNG: {error}"))?;
    writer.finish().map_err(|error| format!("cannot encode the PNG: {error}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panels(count: usize) -> Vec<HistogramPanel> {
        (0..count)
            .map(|index| HistogramPanel {
                title: format!("layer_{index}.kernel <&>"),
                subtitle: "F32 [2, 2]".to_string(),
                histogram: (index % 2 == 0).then(|| Histogram { low: -1.0, high: 1.0, counts: vec![1, 3, 0, 2] }),
            })
            .collect()
    }

    #[test]
    fn svg_has_one_escaped_panel_per_tensor() {
        let svg = svg_figure(&panels(5));
        assert_eq!(svg.matches("<g class=\"panel\"").count(), 5);
        assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
        assert!(svg.contains("layer_4.kernel &lt;&amp;&gt;"));
        assert!(!svg.contains("<&>"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 12);
        assert!(svg.contains("width=\"1360\" height=\"440\""));
    }

    #[test]
    fn png_has_the_signature_and_the_grid_size() {
        let bytes = png_figure(&panels(6)).expect("encodes");
        assert!(bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().expect("decodes");
        assert_eq!((reader.info().width, reader.info().height), (1360, 440));
    }

    #[test]
    fn an_empty_figure_is_still_a_valid_image() {
        assert!(svg_figure(&[]).ends_with("</svg>\n"));
        assert!(png_figure(&[]).is_ok());
    }
}
