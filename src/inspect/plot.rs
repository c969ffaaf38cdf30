//! Histogram figures of `inspect --plot`, drawn with `plotters`: a grid of panels, one per
//! tensor, each headed by the tensor's name, dtype, shape and initializer label in full
//! (wrapped, never cut). A panel shows the share of the values in each bin with axis ticks, and
//! over it what the initializer implies: the expected share per bin of a normal, truncated
//! normal or uniform density, a spike for a constant (or a constant fill), dashed lines at the
//! bounds of an orthogonal matrix. A legend compares the measured mean and std with the
//! expected ones.
//!
//! SVG keeps text as text; each panel is a `<g class="panel">` holding a `<title>` with the
//! tensor's name and the panel's own `<svg>`. PNG is drawn into an RGB raster with DejaVu Sans
//! (embedded from the `dejavu` crate, so no system font is needed) and encoded with `png`.

use super::report::{TensorReport, printable};
use super::stats::Histogram;
use crate::initializers::{Density, Expectation};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

/// The most panels one figure holds (`--max-panels` is capped at this).
pub const MAX_PANELS: usize = 1024;
const PANEL_WIDTH: u32 = 540;
/// Height of a panel's chart (axes, ticks and plot), below its header.
const CHART_HEIGHT: u32 = 270;
const MAX_COLUMNS: usize = 3;
/// Header lines: font size and line height in pixels.
const TITLE_SIZE: f64 = 17.0;
const INFO_SIZE: f64 = 14.0;
const LINE_HEIGHT: u32 = 17;
const HEADER_PADDING: u32 = 8;
const FONT: &str = "sans-serif";

const BAR: RGBColor = RGBColor(0x4c, 0x72, 0xb0);
const EXPECTED: RGBColor = RGBColor(0xdd, 0x55, 0x22);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Registers the embedded fonts with plotters once; text measuring needs them for SVG too.
fn fonts() -> Result<(), String> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let registered = REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if *registered { Ok(()) } else { Err("cannot load the figure's embedded font".to_string()) }
}

/// A number short enough for a figure: four significant decimals in the everyday range, else
/// scientific.
pub fn compact_number(value: f64) -> String {
    if value == 0.0 || (1e-3..1e5).contains(&value.abs()) {
        let text = format!("{value:.4}");
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" { "0".to_string() } else { trimmed.to_string() }
    } else {
        format!("{value:.3e}")
    }
}

/// A tick label: as many decimals as the tick spacing needs, scientific for tiny or huge values.
fn tick_label(value: f64, step: f64) -> String {
    if value == 0.0 || value.abs() < step * 1e-6 {
        return "0".to_string();
    }
    let magnitude = value.abs().log10();
    if !(-3.0..6.0).contains(&magnitude) {
        let digits = ((value.abs() / step).log10().ceil().max(1.0) as usize).min(6);
        return format!("{value:.digits$e}", digits = digits.saturating_sub(1).max(1));
    }
    let decimals = (-(step.log10().floor())).clamp(0.0, 10.0) as usize;
    format!("{value:.decimals$}")
}

/// Breaks `text` into lines no wider than `width` (as `measure` says), after `.`, `,`, `_`,
/// `/` or a space where it can, anywhere when a piece alone is too wide. Nothing is dropped.
fn wrap(text: &str, width: u32, measure: &dyn Fn(&str) -> u32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if measure(rest) <= width {
            lines.push(rest.to_string());
            break;
        }
        let boundaries: Vec<usize> = rest.char_indices().map(|(at, c)| at + c.len_utf8()).collect();
        let fits = |end: usize| measure(&rest[..end]) <= width;
        let last_fitting = boundaries.iter().copied().take_while(|&end| fits(end)).last();
        let Some(last_fitting) = last_fitting else {
            // Not even one character fits: give it its own line.
            let end = boundaries.first().copied().unwrap_or(rest.len());
            lines.push(rest[..end].to_string());
            rest = &rest[end..];
            continue;
        };
        let break_at = rest[..last_fitting]
            .char_indices()
            .filter(|&(_, c)| matches!(c, '.' | ',' | '_' | '/' | ' '))
            .map(|(at, c)| at + c.len_utf8())
            .rfind(|&end| end > last_fitting / 3)
            .unwrap_or(last_fitting);
        lines.push(rest[..break_at].trim_end().to_string());
        rest = rest[break_at..].trim_start();
    }
    lines
}

/// `1234567` as `1,234,567`.
fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The header of one panel: (text, bold) lines.
struct Header {
    lines: Vec<(String, bool)>,
}

impl Header {
    fn of(report: &TensorReport, measure: &dyn Fn(&str, bool) -> u32) -> Header {
        let width = PANEL_WIDTH - 2 * HEADER_PADDING;
        let mut lines: Vec<(String, bool)> =
            wrap(&printable(&report.name), width, &|text| measure(text, true)).into_iter().map(|l| (l, true)).collect();
        let shape = report.shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        let info = format!("{} [{shape}], {} values", report.dtype, grouped(report.params));
        lines.extend(wrap(&info, width, &|text| measure(text, false)).into_iter().map(|l| (l, false)));
        let label = match &report.initializer {
            Some(label) => format!("initializer: {}", printable(label)),
            None => "initializer: not recorded in the file".to_string(),
        };
        lines.extend(wrap(&label, width, &|text| measure(text, false)).into_iter().map(|l| (l, false)));
        Header { lines }
    }

    fn height(&self) -> u32 {
        self.lines.len() as u32 * LINE_HEIGHT + HEADER_PADDING
    }
}

/// Panels laid out in rows: each row as tall as its tallest header plus the chart.
struct Layout {
    columns: usize,
    headers: Vec<Header>,
    row_heights: Vec<u32>,
}

impl Layout {
    fn new(reports: &[TensorReport]) -> Result<Layout, String> {
        fonts()?;
        let measure = |text: &str, bold: bool| -> u32 {
            let font = if bold {
                FontDesc::new(FontFamily::Name(FONT), TITLE_SIZE, FontStyle::Bold)
            } else {
                FontDesc::new(FontFamily::Name(FONT), INFO_SIZE, FontStyle::Normal)
            };
            font.box_size(text).map(|(width, _)| width).unwrap_or(u32::MAX)
        };
        let headers: Vec<Header> = reports.iter().map(|report| Header::of(report, &measure)).collect();
        let columns = reports.len().clamp(1, MAX_COLUMNS);
        let row_heights = headers
            .chunks(columns)
            .map(|row| row.iter().map(Header::height).max().unwrap_or(0) + CHART_HEIGHT)
            .collect::<Vec<_>>();
        Ok(Layout { columns, headers, row_heights })
    }

    fn width(&self) -> u32 {
        self.columns as u32 * PANEL_WIDTH
    }

    fn height(&self) -> u32 {
        self.row_heights.iter().sum::<u32>().max(CHART_HEIGHT)
    }

    /// Top-left corner and height of panel `index`.
    fn place(&self, index: usize) -> (u32, u32, u32) {
        let row = index / self.columns;
        let top = self.row_heights[..row].iter().sum();
        ((index % self.columns) as u32 * PANEL_WIDTH, top, self.row_heights[row])
    }
}

/// What the chart of one panel draws, in data coordinates.
struct ChartPlan {
    x: (f64, f64),
    y_top: f64,
    /// (start, end, share) of each bar.
    bars: Vec<(f64, f64, f64)>,
    /// The expected share per bin along x, when the initializer has a density.
    curve: Vec<(f64, f64)>,
    /// Expected spikes: (value, share) of a constant or a constant fill.
    spikes: Vec<(f64, f64)>,
    measured: String,
    expected: Option<String>,
}

/// The x range an expectation asks to see.
fn expected_range(expected: &Expectation) -> Option<(f64, f64)> {
    let base = match expected.density {
        Density::Normal { mean, std } => (mean - 4.0 * std, mean + 4.0 * std),
        Density::Truncated { low, high, .. } | Density::Uniform { low, high } => (low, high),
        // Far wider than the values (an orthogonal matrix's ±gain): the approximate normal's range.
        Density::Bounded { .. } => (expected.mean - 4.0 * expected.std, expected.mean + 4.0 * expected.std),
        Density::Constant { value } => (value, value),
    };
    let (low, high) = match expected.fill {
        Some((value, _)) => (base.0.min(value), base.1.max(value)),
        None => base,
    };
    (low.is_finite() && high.is_finite()).then_some((low, high))
}

fn plan_chart(report: &TensorReport, histogram: &Histogram) -> Option<ChartPlan> {
    let stats = report.stats?;
    let total = histogram.counts.iter().sum::<u64>().max(1) as f64;
    let expected = report.expectation.as_ref();
    let (mut low, mut high) = (histogram.low, histogram.high);
    // All values equal: a window around them, so that a constant rounded into the dtype
    // (0.1 as f32 is 0.10000000149) does not become the whole axis.
    if histogram.counts.len() == 1 {
        let spread = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        (low, high) = (low - spread, high + spread);
    }
    if let Some((expected_low, expected_high)) = expected.and_then(expected_range) {
        low = low.min(expected_low);
        high = high.max(expected_high);
    }
    if high - low <= 0.0 || !(high - low).is_finite() {
        let spread = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        (low, high) = (low - spread, high + spread);
    }
    let pad = (high - low) * 0.04;
    let x = (low - pad, high + pad);
    if !(x.1 - x.0).is_finite() || x.1 <= x.0 {
        return None;
    }
    let bins = histogram.counts.len();
    let bin_width = if bins > 1 { (histogram.high - histogram.low) / bins as f64 } else { (x.1 - x.0) / 60.0 };
    let bars: Vec<(f64, f64, f64)> = if bins > 1 {
        (0..bins)
            .map(|index| {
                let (start, end) = histogram.bin_range(index);
                (start, end, histogram.counts[index] as f64 / total)
            })
            .collect()
    } else {
        vec![(histogram.low - bin_width / 2.0, histogram.low + bin_width / 2.0, 1.0)]
    };
    let (mut curve, mut spikes) = (Vec::new(), Vec::new());
    if let Some(expected) = expected {
        let kept = 1.0 - expected.fill.map_or(0.0, |(_, fraction)| fraction);
        // The entries of a large random orthogonal matrix are close to normal with its std.
        let density = match expected.density {
            Density::Bounded { .. } => Density::Normal { mean: expected.mean, std: expected.std },
            density => density,
        };
        match density {
            Density::Constant { value } => spikes.push((value, kept)),
            density => {
                // The share a bin centred at each x should hold: fine steps over the axis, finer
                // around the middle of the density so that a narrow one is not stepped over.
                const STEPS: usize = 400;
                let (centre, spread) = match density {
                    Density::Normal { mean, std } => (mean, 5.0 * std),
                    Density::Truncated { mean, low, high, .. } => (mean, (high - low) / 2.0),
                    Density::Uniform { low, high } => ((low + high) / 2.0, (high - low) * 0.6),
                    _ => (x.0, 0.0),
                };
                let mut points: Vec<f64> =
                    (0..=STEPS).map(|step| x.0 + (x.1 - x.0) * step as f64 / STEPS as f64).collect();
                points.extend((0..=STEPS).map(|step| centre - spread + 2.0 * spread * step as f64 / STEPS as f64));
                points.retain(|point| (x.0..=x.1).contains(point));
                points.sort_by(f64::total_cmp);
                points.dedup();
                curve = points
                    .into_iter()
                    .filter_map(|at| {
                        let share = density.mass(at - bin_width / 2.0, at + bin_width / 2.0)?;
                        Some((at, share * kept))
                    })
                    .filter(|point| point.1.is_finite())
                    .collect();
            }
        }
        if let Some((value, fraction)) = expected.fill {
            spikes.push((value, fraction));
        }
    }
    let tallest = bars
        .iter()
        .map(|bar| bar.2)
        .chain(curve.iter().map(|point| point.1))
        .chain(spikes.iter().map(|spike| spike.1))
        .fold(0.0f64, f64::max);
    let measured = format!("measured: mean {}, std {}", compact_number(stats.mean), compact_number(stats.std()));
    let expected = expected.map(|e| {
        let approximate = if matches!(e.density, Density::Bounded { .. }) { " (≈ normal)" } else { "" };
        format!("expected{approximate}: mean {}, std {}", compact_number(e.mean), compact_number(e.std))
    });
    Some(ChartPlan {
        x,
        // Room above the tallest bar for the legend.
        y_top: if tallest > 0.0 { tallest * 1.4 } else { 1.0 },
        bars,
        curve,
        spikes,
        measured,
        expected,
    })
}

fn draw_error<E: std::error::Error + Send + Sync>(error: DrawingAreaErrorKind<E>) -> String {
    format!("cannot draw the figure: {error}")
}

/// Draws one panel (header and chart) into `area`.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &TensorReport,
    header: &Header,
    header_height: u32,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    for (line, (text, bold)) in header.lines.iter().enumerate() {
        let style = if *bold {
            (FONT, TITLE_SIZE, FontStyle::Bold).into_font().color(&BLACK)
        } else {
            (FONT, INFO_SIZE).into_font().color(&GREY)
        };
        let y = HEADER_PADDING as i32 + line as i32 * LINE_HEIGHT as i32;
        area.draw_text(text, &style, (HEADER_PADDING as i32, y)).map_err(draw_error)?;
    }
    let (_, height) = area.dim_in_pixel();
    let chart_area = area.clone().shrink((0, header_height), (PANEL_WIDTH, height.saturating_sub(header_height)));
    let plan = report.histogram.as_ref().and_then(|histogram| plan_chart(report, histogram));
    let Some(plan) = plan else {
        let reason = if report.stats.is_none() {
            format!("no values to draw ({})", report.dtype)
        } else if report.histogram.is_none() {
            "no finite values to draw".to_string()
        } else {
            "the values span too wide a range to draw".to_string()
        };
        let (width, chart_height) = chart_area.dim_in_pixel();
        let style = (FONT, INFO_SIZE).into_font().color(&GREY).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
        chart_area.draw_text(&reason, &style, (width as i32 / 2, chart_height as i32 / 2)).map_err(draw_error)?;
        return Ok(());
    };
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_left(8)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(38)
        .y_label_area_size(56)
        .build_cartesian_2d(plan.x.0..plan.x.1, 0.0..plan.y_top)
        .map_err(draw_error)?;
    let x_step = tick_step(plan.x.1 - plan.x.0, 5);
    let y_step = tick_step(plan.y_top, 4);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_desc("value")
        .y_desc("share of values")
        .label_style((FONT, 12.0))
        .axis_desc_style((FONT, 13.0))
        .x_label_formatter(&|value| tick_label(*value, x_step))
        .y_label_formatter(&|value| tick_label(*value, y_step))
        .draw()
        .map_err(draw_error)?;
    chart
        .draw_series(plan.bars.iter().map(|&(start, end, share)| {
            // A hairline gap between bars.
            let gap = (end - start) * 0.06;
            Rectangle::new([(start + gap / 2.0, 0.0), (end - gap / 2.0, share)], BAR.mix(0.75).filled())
        }))
        .map_err(draw_error)?
        .label(plan.measured.clone())
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BAR.mix(0.75).filled()));
    if let Some(expected) = &plan.expected {
        let style = Color::stroke_width(&EXPECTED, 2);
        let mut drawn = false;
        if !plan.curve.is_empty() {
            let series = chart.draw_series(LineSeries::new(plan.curve.iter().copied(), style)).map_err(draw_error)?;
            series.label(expected.clone()).legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
            drawn = true;
        }
        for &(value, share) in &plan.spikes {
            chart.draw_series([Circle::new((value, share), 4, EXPECTED.filled())]).map_err(draw_error)?;
            let series =
                chart.draw_series([PathElement::new([(value, 0.0), (value, share)], style)]).map_err(draw_error)?;
            if !drawn {
                series.label(expected.clone()).legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
                drawn = true;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 12.0))
        .background_style(WHITE.mix(0.85))
        .border_style(GREY.mix(0.4))
        .draw()
        .map_err(draw_error)?;
    Ok(())
}

/// A round tick spacing giving about `count` ticks over `span`.
fn tick_step(span: f64, count: usize) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / count as f64;
    let power = 10f64.powf(raw.log10().floor());
    let scaled = raw / power;
    let nice = if scaled < 1.5 {
        1.0
    } else if scaled < 3.0 {
        2.0
    } else if scaled < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The figure as an SVG document: one `<g class="panel">` per tensor, in order, each with a
/// `<title>` holding the tensor's name and the panel drawn by plotters as a nested `<svg>`.
pub fn svg_figure(reports: &[TensorReport]) -> Result<String, String> {
    check_count(reports.len())?;
    let layout = Layout::new(reports)?;
    let (width, height) = (layout.width(), layout.height());
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<rect width=\"{width}\" height=\"{height}\" \
         fill=\"#ffffff\"/>\n"
    );
    for (index, report) in reports.iter().enumerate() {
        let (x, y, panel_height) = layout.place(index);
        let header_height = layout.row_heights[index / layout.columns] - CHART_HEIGHT;
        let mut panel = String::new();
        {
            let area = SVGBackend::with_string(&mut panel, (PANEL_WIDTH, panel_height)).into_drawing_area();
            draw_panel(&area, report, &layout.headers[index], header_height)?;
            area.present().map_err(draw_error)?;
        }
        svg.push_str(&format!(
            "<g class=\"panel\" transform=\"translate({x},{y})\">\n<title>{}</title>\n",
            escape_xml(&printable(&report.name))
        ));
        svg.push_str(panel.trim_end());
        svg.push_str("\n</g>\n");
    }
    svg.push_str("</svg>\n");
    Ok(svg)
}

/// The embedded fonts for raster text: (regular, bold).
fn raster_fonts() -> Result<&'static (FontRef<'static>, FontRef<'static>), String> {
    static FONTS: std::sync::OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = std::sync::OnceLock::new();
    FONTS
        .get_or_init(|| {
            let regular = FontRef::try_from_slice(dejavu::sans::regular()).ok()?;
            let bold = FontRef::try_from_slice(dejavu::sans::bold()).ok()?;
            Some((regular, bold))
        })
        .as_ref()
        .ok_or_else(|| "cannot load the figure's embedded font".to_string())
}

/// plotters' bitmap backend with its text drawn here: plotters' own `ab_glyph` text drops each
/// glyph's side bearing (uneven letter spacing) and rounds its advance, so every string is
/// laid out with kerning and drawn with anti-aliased coverage at the anchor plotters asks for,
/// rotated for the vertical axis label.
struct RasterBackend<'a> {
    inner: BitMapBackend<'a>,
    fonts: &'static (FontRef<'static>, FontRef<'static>),
}

impl DrawingBackend for RasterBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        position: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = if matches!(style.style(), FontStyle::Bold) { &self.fonts.1 } else { &self.fonts.0 };
        // The scale plotters measures text with, so that layouts and drawings agree.
        let scale = PxScale::from(style.size() as f32);
        let scaled = font.as_scaled(scale);
        let mut caret = 0.0f32;
        let mut glyphs = Vec::new();
        let mut previous = None;
        for character in text.chars() {
            let id = scaled.glyph_id(character);
            if let Some(previous) = previous {
                caret += scaled.kern(previous, id);
            }
            glyphs.push(id.with_scale_and_position(scale, ab_glyph::point(caret, scaled.ascent())));
            caret += scaled.h_advance(id);
            previous = Some(id);
        }
        let height = scaled.ascent() - scaled.descent();
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            plotters_backend::text_anchor::HPos::Left => 0.0,
            plotters_backend::text_anchor::HPos::Center => -caret / 2.0,
            plotters_backend::text_anchor::HPos::Right => -caret,
        };
        let dy = match anchor.v_pos {
            plotters_backend::text_anchor::VPos::Top => 0.0,
            plotters_backend::text_anchor::VPos::Center => -height / 2.0,
            plotters_backend::text_anchor::VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (width, full_height) = self.inner.get_size();
        let mut pixels = Vec::new();
        for glyph in glyphs {
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|x, y, coverage| {
                    let local_x = (bounds.min.x + x as f32 + dx).round() as i32;
                    let local_y = (bounds.min.y + y as f32 + dy).round() as i32;
                    let (x, y) = transform.transform(local_x, local_y);
                    pixels.push(((position.0 + x, position.1 + y), coverage));
                });
            }
        }
        for ((x, y), coverage) in pixels {
            if coverage > 0.0 && x >= 0 && y >= 0 && (x as u32) < width && (y as u32) < full_height {
                let alpha = color.alpha * f64::from(coverage.min(1.0));
                self.inner.draw_pixel((x, y), BackendColor { alpha, rgb: color.rgb })?;
            }
        }
        Ok(())
    }

    fn blit_bitmap(
        &mut self,
        position: BackendCoord,
        size: (u32, u32),
        source: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(position, size, source)
    }
}

/// The figure as PNG bytes, laid out as [`svg_figure`] lays it out.
pub fn png_figure(reports: &[TensorReport]) -> Result<Vec<u8>, String> {
    check_count(reports.len())?;
    let layout = Layout::new(reports)?;
    let (width, height) = (layout.width(), layout.height());
    let mut pixels = vec![0xffu8; width as usize * height as usize * 3];
    {
        let inner = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(&mut pixels, (width, height))
            .map_err(|error| format!("cannot draw the figure: {error}"))?;
        let root = RasterBackend { inner, fonts: raster_fonts()? }.into_drawing_area();
        for (index, report) in reports.iter().enumerate() {
            let (x, y, panel_height) = layout.place(index);
            let header_height = layout.row_heights[index / layout.columns] - CHART_HEIGHT;
            let area = root.clone().shrink((x, y), (PANEL_WIDTH, panel_height));
            draw_panel(&area, report, &layout.headers[index], header_height)?;
        }
        root.present().map_err(draw_error)?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|error| format!("cannot encode the PNG: {error}"))?;
    writer.write_image_data(&pixels).map_err(|error| format!("cannot encode the PNG: {error}"))?;
    writer.finish().map_err(|error| format!("cannot encode the PNG: {error}"))?;
    Ok(bytes)
}

fn check_count(panels: usize) -> Result<(), String> {
    if panels > MAX_PANELS {
        return Err(format!("{panels} panels are too many for one figure (at most {MAX_PANELS})"));
    }
    Ok(())
}

/// Text for XML: markup characters escaped; control characters (which XML 1.0 cannot hold)
/// are already written as `\u{…}` by `printable`.
fn escape_xml(text: &str) -> String {
    text.chars()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::TensorData;
    use safetensors::Dtype;

    fn report(name: &str, dtype: Dtype, bytes: Vec<u8>, label: Option<&str>) -> TensorReport {
        let width = crate::inspect::element_bytes(dtype).unwrap_or(8);
        let tensor =
            TensorData { name: name.to_string(), dtype, shape: vec![bytes.len() / width], bytes: bytes.into() };
        TensorReport::measure(&tensor, label, Some(24))
    }

    fn f64_bytes(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Tensors that could trip a plotting library: extreme and tiny ranges, no finite value, no
    /// values at all, a name with markup and control characters, a label far from the values.
    fn hostile_reports() -> Vec<TensorReport> {
        vec![
            report("huge", Dtype::F64, f64_bytes(&[-f64::MAX, f64::MAX, 0.0]), None),
            report("tiny", Dtype::F64, f64_bytes(&[5e-324, 1e-320, 0.0]), Some("random_normal(stddev=1e-300)")),
            report("constant_huge", Dtype::F64, f64_bytes(&[1e300; 4]), Some("constant(value=1e300)")),
            report("nan_only", Dtype::F64, f64_bytes(&[f64::NAN, f64::INFINITY]), Some("zeros")),
            report("empty", Dtype::F32, Vec::new(), Some("he_normal")),
            report("complex", Dtype::C64, vec![0; 16], None),
            report("a<b>&\"c\"\u{1b}[31m", Dtype::F32, 1.5f32.to_le_bytes().to_vec(), Some("ones; 0[0..1]")),
            report(
                "far",
                Dtype::F32,
                [0.0f32, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
                Some("random_normal(mean=1e6, stddev=1)"),
            ),
            report(
                "bad_label",
                Dtype::F32,
                1.0f32.to_le_bytes().to_vec(),
                Some("variance_scaling(scale=-1, mode=fan_in, distribution=uniform)"),
            ),
        ]
    }

    #[test]
    fn hostile_tensors_draw_without_panicking() {
        let reports = hostile_reports();
        let svg = svg_figure(&reports).expect("an SVG");
        let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let panels: Vec<_> = document.descendants().filter(|node| node.attribute("class") == Some("panel")).collect();
        assert_eq!(panels.len(), reports.len());
        assert!(svg.contains("<title>a&lt;b&gt;&amp;&quot;c&quot;\\u{1b}[31m</title>"), "escaped title");
        assert!(!svg.contains('\u{1b}'));
        assert!(svg.contains("no values to draw (C64)") && svg.contains("no finite values to draw"));
        assert!(svg.contains("the values span too wide a range to draw"));
        let png = png_figure(&reports).expect("a PNG");
        assert!(png.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));
        assert!(svg_figure(&[]).is_ok() && png_figure(&[]).is_ok());
    }

    #[test]
    fn long_names_and_labels_wrap_whole() {
        let name = "model.layers.31.self_attention.query_key_value_projection_with_a_very_long_name.weight";
        let label = "variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal, seed=1234567890)";
        let values: Vec<u8> = (0..100).flat_map(|i| (i as f32 / 100.0).to_le_bytes()).collect();
        let svg = svg_figure(&[report(name, Dtype::F32, values, Some(label))]).expect("an SVG");
        let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let texts: Vec<String> = document
            .descendants()
            .filter(|node| node.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(|t| t.trim().to_string())
            .collect();
        let header: Vec<&String> = texts.iter().take_while(|text| !text.starts_with("share")).collect();
        assert_eq!(header.len(), 5, "two lines of name, one of shape, two of label: {texts:?}");
        // Every character of the name and the label is drawn, in order, across the lines.
        let joined: String = texts.concat().split_whitespace().collect();
        let squeeze = |text: &str| text.split_whitespace().collect::<String>();
        assert!(joined.contains(&squeeze(name)), "{texts:?}");
        assert!(joined.contains(&squeeze(&format!("initializer: {label}"))), "{texts:?}");
    }

    #[test]
    fn wrap_breaks_at_separators_and_keeps_every_character() {
        let measure = |text: &str| text.chars().count() as u32;
        assert_eq!(wrap("abc.def.ghi", 8, &measure), vec!["abc.def.", "ghi"]);
        assert_eq!(wrap("abcdefghij", 4, &measure), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a, b, c", 5, &measure), vec!["a, b,", "c"]);
        assert_eq!(wrap("", 5, &measure), Vec::<String>::new());
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(grouped(12), "12");
    }

    #[test]
    fn tick_labels_have_the_decimals_their_spacing_needs() {
        assert_eq!(tick_label(0.05, 0.01), "0.05");
        assert_eq!(tick_label(-0.1, 0.05), "-0.10");
        assert_eq!(tick_label(2.0, 0.5), "2.0");
        assert_eq!(tick_label(1e-18, 0.1), "0", "rounding noise at zero");
        assert_eq!(tick_label(1e-9, 1e-9), "1.0e-9");
        assert_eq!(tick_label(3e-7, 1e-7), "3.0e-7");
        assert_eq!(tick_step(1.0, 5), 0.2);
        assert_eq!(compact_number(-0.0), "0");
        assert_eq!(compact_number(0.02), "0.02");
        assert_eq!(compact_number(1.5e-6), "1.500e-6");
    }
}
