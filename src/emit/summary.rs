//! The Keras 3 `model.summary()` table and its JSON twin.
//!
//! The text reproduces Keras 3's rich-rendered table for a `Sequential` model byte for byte:
//! three columns of inner widths 33, 24 and 15, one space of padding each side of a cell.
//! A cell too long for its column wraps at spaces onto more lines, as Keras's (rich) table does;
//! a single word longer than the column is folded across lines where Keras would cut it with
//! `…`, so long block-prefixed names stay readable in full.

use super::size::count_text;
use crate::plan::{LayerRow, OPEN_SIZE, Plan, SummaryStyle};
use serde::Serialize;
use std::fmt::Write as _;

/// One column of the table: inner width (padding included), alignment and heading.
struct Column {
    width: usize,
    align: Align,
    heading: &'static str,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// What happens to a word longer than its column.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    /// Folded across lines, so long block-prefixed names stay readable in full.
    Fold,
    /// Cut to the column with `…`, as Keras (rich) does.
    Ellipsis,
}

/// A Sequential model's three columns (Keras: 88 columns wide at most, positions 0.45/0.80/1.0,
/// fitted by rich into an 80-column terminal).
const SEQUENTIAL_COLUMNS: [Column; 3] = [
    Column { width: 33, align: Align::Left, heading: "Layer (type)" },
    Column { width: 24, align: Align::Left, heading: "Output Shape" },
    Column { width: 15, align: Align::Right, heading: "Param #" },
];

/// A functional model's four columns (Keras: 108 wide at most, positions 0.3/0.56/0.74/1.0).
const FUNCTIONAL_COLUMNS: [Column; 4] = [
    Column { width: 21, align: Align::Left, heading: "Layer (type)" },
    Column { width: 19, align: Align::Left, heading: "Output Shape" },
    Column { width: 12, align: Align::Right, heading: "Param #" },
    Column { width: 19, align: Align::Left, heading: "Connected to" },
];

/// Box-drawing characters of one horizontal rule: left end, fill, column junction, right end.
struct Rule {
    left: char,
    fill: char,
    junction: char,
    right: char,
}

const TOP_RULE: Rule = Rule { left: '┏', fill: '━', junction: '┳', right: '┓' };
const HEADING_RULE: Rule = Rule { left: '┡', fill: '━', junction: '╇', right: '┩' };
const ROW_RULE: Rule = Rule { left: '├', fill: '─', junction: '┼', right: '┤' };
const BOTTOM_RULE: Rule = Rule { left: '└', fill: '─', junction: '┴', right: '┘' };

/// The heading row uses heavy verticals, body rows light ones.
const HEADING_VERTICAL: char = '┃';
const BODY_VERTICAL: char = '│';

/// The table's columns and how it treats long words.
struct Table {
    columns: &'static [Column],
    overflow: Overflow,
    /// The body's blank line, for the lines of plain cells.
    blank: Option<BlankLine>,
}

impl Table {
    fn new(columns: &'static [Column], overflow: Overflow) -> Table {
        Table { columns, overflow, blank: Some(BlankLine::new(columns, BODY_VERTICAL)) }
    }

    /// One horizontal rule as a line of text, made once per table and copied for every row.
    fn rule_line(&self, rule: &Rule) -> String {
        let mut text = String::new();
        text.push(rule.left);
        for (index, column) in self.columns.iter().enumerate() {
            if index > 0 {
                text.push(rule.junction);
            }
            text.extend(std::iter::repeat_n(rule.fill, column.width));
        }
        text.push(rule.right);
        text.push('\n');
        text
    }

    fn push_row(&self, text: &mut String, cells: &[&str], vertical: char) {
        // Each cell measured once: a graph's summary has 100,000 rows.
        let mut measures = [Measure::default(); MAX_COLUMNS];
        for ((content, column), measure) in cells.iter().zip(self.columns).zip(&mut measures) {
            *measure = Measure::of(content, column.width - 2);
        }
        let measures = &measures[..cells.len().min(MAX_COLUMNS)];
        // Most rows fit on one line: written directly, without wrapping each cell into lines.
        let mut line = [Piece::default(); MAX_COLUMNS];
        if measures.iter().all(|measure| measure.fits) {
            for ((piece, content), measure) in line.iter_mut().zip(cells).zip(measures) {
                *piece = Piece { text: content, chars: measure.chars, cut: false };
            }
            self.push_line(text, &line[..measures.len()], vertical);
            return;
        }
        // Only the cells that need it are wrapped, into one list of lines kept inline (a
        // graph's summary wraps 50,000 rows); the others are one line as they are.
        let mut pieces = Lines::new();
        let mut wrapped: [std::ops::Range<usize>; MAX_COLUMNS] = Default::default();
        let mut lines = 1;
        for (((content, column), measure), range) in cells.iter().zip(self.columns).zip(measures).zip(&mut wrapped) {
            if !measure.fits {
                let first = pieces.len();
                wrap_into(&mut pieces, content, column.width - 2, self.overflow, measure.ascii);
                *range = first..pieces.len();
                lines = lines.max(range.len());
            }
        }
        for index in 0..lines {
            for (((piece, content), range), measure) in line.iter_mut().zip(cells).zip(&wrapped).zip(measures) {
                *piece = match measure.fits {
                    false => pieces[range.clone()].get(index).copied().unwrap_or_default(),
                    true if index == 0 => Piece { text: content, chars: measure.chars, cut: false },
                    true => Piece::default(),
                };
            }
            self.push_line(text, &line[..measures.len()], vertical);
        }
    }

    /// One line of pieces that each fit their column.
    fn push_line(&self, text: &mut String, line: &[Piece], vertical: char) {
        if let Some(blank) = self.blank.as_ref().filter(|blank| blank.vertical == vertical)
            && blank.push(text, line, self.columns)
        {
            return;
        }
        text.push(vertical);
        for (piece, column) in line.iter().zip(self.columns) {
            push_cell(text, piece, column.width, column.align);
            text.push(vertical);
        }
        text.push('\n');
    }
}

/// A body line with every cell blank, and where each cell's space starts: a line is the blank
/// line copied around its cells' pieces (a graph's summary has 150,000 lines, and writing each
/// piece of each line was most of its text's time).
struct BlankLine {
    vertical: char,
    text: String,
    /// The byte offset of each cell's space (after its leading blank).
    cells: Vec<usize>,
}

impl BlankLine {
    fn new(columns: &[Column], vertical: char) -> BlankLine {
        let mut text = String::new();
        let mut cells = Vec::with_capacity(columns.len());
        text.push(vertical);
        for column in columns {
            text.push(' ');
            cells.push(text.len());
            push_spaces(&mut text, column.width - 1);
            text.push(vertical);
        }
        text.push('\n');
        BlankLine { vertical, text, cells }
    }

    /// Writes the line of `line`'s pieces if each fits its column; else writes nothing and
    /// returns false.
    fn push(&self, text: &mut String, line: &[Piece], columns: &[Column]) -> bool {
        if line.len() != columns.len() || line.iter().zip(columns).any(|(piece, column)| piece.chars > column.width - 2)
        {
            return false;
        }
        // The blank line up to each piece, the piece, and the blank line after its characters
        // (spaces, one byte each).
        let mut from = 0;
        for ((piece, column), &offset) in line.iter().zip(columns).zip(&self.cells) {
            // An empty cell is the blank line's (a wrapped row's later lines are mostly empty).
            if piece.text.is_empty() && !piece.cut {
                continue;
            }
            let at = match column.align {
                Align::Left => offset,
                Align::Right => offset + column.width - 2 - piece.chars,
            };
            text.push_str(&self.text[from..at]);
            piece.push_to(text);
            from = at + piece.chars;
        }
        text.push_str(&self.text[from..]);
        true
    }
}

/// The most columns a table has.
const MAX_COLUMNS: usize = 4;

/// How a cell's content measures against its column.
#[derive(Clone, Copy, Default)]
struct Measure {
    /// Plain ASCII: one byte a character.
    ascii: bool,
    chars: usize,
    /// `wrap` would leave it as one unchanged line: it fits, and does not start with a space
    /// (which `wrap` drops).
    fits: bool,
}

impl Measure {
    fn of(content: &str, width: usize) -> Measure {
        let ascii = content.is_ascii();
        let chars = if ascii { content.len() } else { char_len(content) };
        Measure { ascii, chars, fits: chars <= width && !content.starts_with(' ') }
    }
}

/// What a cell shows on one line: a slice of its content, `chars` characters long with the `…`
/// that ends it if it is `cut`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Piece<'a> {
    text: &'a str,
    chars: usize,
    cut: bool,
}

impl Piece<'_> {
    fn push_to(&self, text: &mut String) {
        text.push_str(self.text);
        if self.cut {
            text.push('…');
        }
    }
}

/// How many characters `text` holds: its bytes that do not continue a character (a plain loop
/// the compiler vectorises; `chars().count()` is slower on a cell's few bytes).
fn char_len(text: &str) -> usize {
    text.bytes().filter(|&byte| (byte as i8) >= -0x40).count()
}

/// One cell: a space, the piece aligned within `width - 2`, a space; wider if it must be.
fn push_cell(text: &mut String, piece: &Piece, width: usize, align: Align) {
    let fill = (width - 2).saturating_sub(piece.chars);
    text.push(' ');
    match align {
        Align::Left => {
            piece.push_to(text);
            push_spaces(text, fill);
        }
        Align::Right => {
            push_spaces(text, fill);
            piece.push_to(text);
        }
    }
    text.push(' ');
}

/// `count` spaces, copied from a constant rather than pushed one character at a time.
fn push_spaces(text: &mut String, count: usize) {
    const SPACES: &str = "                                ";
    let mut left = count;
    while left > 0 {
        let now = left.min(SPACES.len());
        text.push_str(&SPACES[..now]);
        left -= now;
    }
}

/// Lines after wrapping, inline for up to eight.
type Lines<'a> = smallvec::SmallVec<[Piece<'a>; 8]>;

/// Greedy word wrap at spaces into lines of at most `width` characters; a longer word gets
/// lines of its own, folded or cut with `…`.
///
/// Lines are slices of `content` (words are joined by the single spaces between them), so only
/// a word cut with `…` is copied.
#[cfg(test)]
fn wrap(content: &str, width: usize, overflow: Overflow, ascii: bool) -> Lines<'_> {
    let mut lines = Lines::new();
    wrap_into(&mut lines, content, width, overflow, ascii);
    lines
}

/// [`wrap`], adding the lines to `lines`.
fn wrap_into<'a>(lines: &mut Lines<'a>, content: &'a str, width: usize, overflow: Overflow, ascii: bool) {
    // Plain ASCII (`ascii`, as a graph's 50,000 wrapped cells are) counts characters by bytes.
    match ascii {
        true => wrap_counted(lines, content, width, overflow, str::len, |word, count| count.min(word.len())),
        false => wrap_counted(lines, content, width, overflow, char_len, |word, count| {
            word.char_indices().nth(count).map_or(word.len(), |(at, _)| at)
        }),
    }
}

/// [`wrap`], counting the characters of a word with `chars` and finding the byte where its
/// character `count` starts (or its end) with `byte_of`.
#[inline(always)]
fn wrap_counted<'a>(
    lines: &mut Lines<'a>,
    content: &'a str,
    width: usize,
    overflow: Overflow,
    chars: impl Fn(&str) -> usize,
    byte_of: impl Fn(&str, usize) -> usize,
) {
    // The line being filled: `content[start..]` up to the last word added, `len` characters.
    let mut line = Piece::default();
    let mut start = 0;
    let mut len = 0;
    let mut word_start = 0;
    loop {
        // Words are split at single spaces (a space is one byte in UTF-8).
        let word_end = content.as_bytes()[word_start..]
            .iter()
            .position(|&byte| byte == b' ')
            .map_or(content.len(), |at| word_start + at);
        let word = &content[word_start..word_end];
        let word_len = chars(word);
        if len > 0 && len + 1 + word_len <= width {
            len += 1 + word_len;
            line = Piece { text: &content[start..word_end], chars: len, cut: false };
        } else {
            if len > 0 {
                lines.push(line);
            }
            if word_len > width && overflow == Overflow::Ellipsis {
                // Exactly `width` characters with the `…`: no later word joins this line.
                let kept = width.saturating_sub(1);
                line = Piece { text: &word[..byte_of(word, kept)], chars: kept + 1, cut: true };
                len = kept + 1;
            } else {
                let (mut rest, mut rest_len) = (word, word_len);
                start = word_start;
                while rest_len > width {
                    let split = byte_of(rest, width);
                    lines.push(Piece { text: &rest[..split], chars: width, cut: false });
                    (rest, rest_len) = (&rest[split..], rest_len - width);
                    start += split;
                }
                line = Piece { text: rest, chars: rest_len, cut: false };
                len = rest_len;
            }
        }
        if word_end == content.len() {
            break;
        }
        word_start = word_end + 1;
    }
    lines.push(line);
}

/// A layer's output shape as Python prints it; a param shows its tensor shape in brackets
/// instead, as it has no output of its own; `?` when no input reaches the layer.
fn push_shape_cell(cell: &mut String, layer: &LayerRow) {
    if let (Some(first), false) = (&layer.output_shape, layer.other_outputs.is_empty()) {
        // Python's `str` of a list of shapes.
        cell.push('[');
        for (index, shape) in std::iter::once(first).chain(&layer.other_outputs).enumerate() {
            if index > 0 {
                cell.push_str(", ");
            }
            push_python_shape(cell, shape);
        }
        cell.push(']');
        return;
    }
    match (&layer.param_shape, &layer.output_shape) {
        (Some(shape), _) => {
            cell.push('[');
            for (index, dim) in shape.iter().enumerate() {
                let _ = write!(cell, "{}{dim}", if index > 0 { ", " } else { "" });
            }
            cell.push(']');
        }
        (None, Some(shape)) => push_python_shape(cell, shape),
        (None, None) => cell.push('?'),
    }
}

/// The output shape with the batch dimension, as Python prints the tuple: `(None, 126, 16)`,
/// and `(None,)` for a shape of the batch dimension alone.
fn push_python_shape(text: &mut String, output_shape: &[usize]) {
    if output_shape.is_empty() {
        text.push_str("(None,)");
        return;
    }
    text.push_str("(None");
    for &dim in output_shape {
        if dim == OPEN_SIZE {
            text.push_str(", None");
        } else {
            text.push_str(", ");
            text.push_str(itoa::Buffer::new().format(dim));
        }
    }
    text.push(')');
}

/// Keras 3 `readable_memory_size`, including its quirk: past the last unit the value has been
/// divided once more but is still labelled `PB`.
pub(super) fn readable_memory_size(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    const SCALE: f64 = 1024.0;
    let mut size = bytes;
    for unit in UNITS {
        if size / SCALE < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= SCALE;
    }
    format!("{size:.2} PB")
}

/// `40,152 (156.84 KB)`: a parameter count and the memory its tensors take in their dtype (as
/// Keras does with a dtype policy; `f32` by default, which is what Keras prints by default).
fn count_with_size(params: u64, bytes: f64) -> String {
    format!("{} ({})", count_text(params), readable_memory_size(bytes))
}

/// The table's totals, from one pass over the tensors (a graph has 100,000; six passes were a
/// tenth of its text's time).
struct Totals {
    /// Elements of the counted tensors, and of the trainable ones among them.
    total: u64,
    trainable: u64,
    /// Their bytes, each tensor at its dtype's size, summed in tensor order.
    total_bytes: f64,
    trainable_bytes: f64,
    non_trainable_bytes: f64,
    /// Every element the file holds, counted or not.
    in_file: u64,
}

impl Totals {
    fn of(plan: &Plan) -> Totals {
        // Sums from +0.0: `sum` of nothing is −0.0, which would print as `-0.00 B`.
        let mut totals = Totals {
            total: 0,
            trainable: 0,
            total_bytes: 0.0,
            trainable_bytes: 0.0,
            non_trainable_bytes: 0.0,
            in_file: 0,
        };
        for tensor in &plan.tensors {
            let elements = tensor.element_count();
            totals.in_file = totals.in_file.saturating_add(elements as u64);
            if !tensor.counted {
                continue;
            }
            let bytes = elements as f64 * tensor.dtype.size_bytes() as f64;
            totals.total += elements as u64;
            totals.total_bytes += bytes;
            if tensor.trainable {
                totals.trainable += elements as u64;
                totals.trainable_bytes += bytes;
            } else {
                totals.non_trainable_bytes += bytes;
            }
        }
        totals
    }
}

/// A layer's first cell: `name (Class)`.
fn push_layer_cell(cell: &mut String, layer: &LayerRow) {
    for part in [layer.name.as_str(), " (", layer.class_name, ")"] {
        cell.push_str(part);
    }
}

/// What a row's layer consumes, or `-` for nothing.
fn push_connections_cell(cell: &mut String, layer: &LayerRow) {
    if layer.connected_to.is_empty() {
        cell.push('-');
    }
    for (index, producer) in layer.connected_to.iter().enumerate() {
        if index > 0 {
            cell.push_str(", ");
        }
        cell.push_str(producer);
    }
}

pub(super) fn text(plan: &Plan) -> String {
    let mut bytes = Vec::new();
    // Writing into a `Vec` cannot fail, and every piece written is a `str`.
    let _ = write_text(plan, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

/// Rows made into text by one task: a summary of 100,000 rows is 40 MB, made on every thread in
/// batches of [`BATCH_CHUNKS`] such chunks and written batch by batch, so that no more than a few
/// MB of it are held at once.
const CHUNK_ROWS: usize = 1024;
const BATCH_CHUNKS: usize = 8;

/// [`text`], written to `out` as it is made.
pub(super) fn write_text(plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    let (table, connections) = match plan.summary_style {
        SummaryStyle::Sequential => (Table::new(&SEQUENTIAL_COLUMNS, Overflow::Fold), false),
        SummaryStyle::Functional { connections: false } => (Table::new(&SEQUENTIAL_COLUMNS, Overflow::Ellipsis), false),
        SummaryStyle::Functional { connections: true } => (Table::new(&FUNCTIONAL_COLUMNS, Overflow::Ellipsis), true),
    };
    let row_rule = table.rule_line(&ROW_RULE);
    let mut text = String::new();
    let _ = writeln!(text, "Model: \"{}\"", plan.model_name);
    text.push_str(&table.rule_line(&TOP_RULE));
    let headings: Vec<&str> = table.columns.iter().map(|column| column.heading).collect();
    table.push_row(&mut text, &headings, HEADING_VERTICAL);
    text.push_str(&table.rule_line(&HEADING_RULE));
    // Each chunk's text, its buffer reused from batch to batch.
    let mut chunks: Vec<String> = Vec::new();
    for (batch, rows) in plan.layers.chunks(CHUNK_ROWS * BATCH_CHUNKS).enumerate() {
        let first = batch * CHUNK_ROWS * BATCH_CHUNKS;
        // A small table is made here, without starting the other threads.
        if rows.len() <= CHUNK_ROWS {
            push_rows(&mut text, &table, &row_rule, rows, first, connections);
            continue;
        }
        out.write_all(text.as_bytes())?;
        text.clear();
        chunks.resize_with(rows.len().div_ceil(CHUNK_ROWS), String::new);
        chunks.par_iter_mut().zip(rows.par_chunks(CHUNK_ROWS)).enumerate().for_each(|(chunk, (text, rows))| {
            text.clear();
            push_rows(text, &table, &row_rule, rows, first + chunk * CHUNK_ROWS, connections);
        });
        for chunk in &chunks {
            out.write_all(chunk.as_bytes())?;
        }
    }
    text.push_str(&table.rule_line(&BOTTOM_RULE));

    let Totals { total, trainable, total_bytes, trainable_bytes, non_trainable_bytes, in_file } = Totals::of(plan);
    let non_trainable = total.saturating_sub(trainable);
    let _ = writeln!(text, " Total params: {}", count_with_size(total, total_bytes));
    let _ = writeln!(text, " Trainable params: {}", count_with_size(trainable, trainable_bytes));
    let _ = writeln!(text, " Non-trainable params: {}", count_with_size(non_trainable, non_trainable_bytes));
    // The table counts Keras's weights, as Keras does; a file that holds more (`--layout torch`'s
    // `bias_hh_l0`, `num_batches_tracked`) says so on a line of its own.
    if in_file != total {
        let _ = writeln!(
            text,
            " In the file: {} values; {} of them in tensors only the torch layout has",
            count_text(in_file),
            count_text(in_file.saturating_sub(total))
        );
    }
    out.write_all(text.as_bytes())
}

/// The body rows `rows`, the first of which is row `first` of the table (every row after the
/// table's first is preceded by a rule).
fn push_rows(text: &mut String, table: &Table, row_rule: &str, rows: &[LayerRow], first: usize, connections: bool) {
    // The cells of one row, reused from row to row.
    let mut name_cell = String::new();
    let mut shape_cell = String::new();
    let mut connections_cell = String::new();
    let mut params_cell = String::new();
    for (index, layer) in rows.iter().enumerate() {
        if first + index > 0 {
            text.push_str(row_rule);
        }
        name_cell.clear();
        push_layer_cell(&mut name_cell, layer);
        shape_cell.clear();
        push_shape_cell(&mut shape_cell, layer);
        // `count_text`, written into a buffer reused from row to row.
        params_cell.clear();
        push_count(&mut params_cell, layer.params);
        let params = &params_cell;
        if connections {
            connections_cell.clear();
            push_connections_cell(&mut connections_cell, layer);
            table.push_row(text, &[&name_cell, &shape_cell, params, &connections_cell], BODY_VERTICAL);
        } else {
            table.push_row(text, &[&name_cell, &shape_cell, params], BODY_VERTICAL);
        }
    }
}

/// `count` with thousands separators (`3,600,000`), as [`count_text`] writes it.
fn push_count(text: &mut String, count: u64) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(count);
    for (index, digit) in digits.char_indices() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
}

/// One layer in the JSON summary; field order is the key order.
#[derive(Serialize)]
struct LayerJson<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    class_name: &'a str,
    /// `null` for the batch dimension, then the layer's dimensions; `null` for a param; a list
    /// of such shapes for a nested model with several outputs.
    output_shape: Option<serde_json::Value>,
    /// A param's tensor shape (params only).
    #[serde(skip_serializing_if = "Option::is_none")]
    shape: Option<&'a [usize]>,
    params: u64,
    /// What each call consumes, for a graph (`dense[0][0]`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    connected_to: &'a [String],
}

/// The JSON summary; field order is the key order.
#[derive(Serialize)]
struct SummaryJson<'a> {
    name: &'a str,
    layers: Vec<LayerJson<'a>>,
    total_params: u64,
    trainable_params: u64,
    non_trainable_params: u64,
    /// Every element the file holds, when it differs from `total_params` (`--layout torch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    values_in_file: Option<u64>,
}

pub(super) fn json(plan: &Plan) -> String {
    let layers = plan
        .layers
        .iter()
        .map(|layer| LayerJson {
            name: &layer.name,
            class_name: layer.class_name,
            output_shape: match layer.param_shape {
                Some(_) => None,
                None => layer.output_shape.as_ref().map(|first| {
                    let batched = |shape: &Vec<usize>| -> Vec<Option<usize>> {
                        std::iter::once(None)
                            .chain(shape.iter().map(|&size| (size != OPEN_SIZE).then_some(size)))
                            .collect()
                    };
                    if layer.other_outputs.is_empty() {
                        serde_json::json!(batched(first))
                    } else {
                        let all: Vec<Vec<Option<usize>>> =
                            std::iter::once(first).chain(&layer.other_outputs).map(batched).collect();
                        serde_json::json!(all)
                    }
                }),
            },
            shape: layer.param_shape.as_deref(),
            params: layer.params,
            connected_to: &layer.connected_to,
        })
        .collect();
    let Totals { total, trainable, in_file, .. } = Totals::of(plan);
    let summary = SummaryJson {
        name: &plan.model_name,
        layers,
        total_params: total,
        trainable_params: trainable,
        non_trainable_params: total.saturating_sub(trainable),
        values_in_file: Some(in_file).filter(|&values| values != total),
    };
    // Strings, integers and nulls always serialize, so the empty fallback is never taken.
    serde_json::to_string_pretty(&summary).map(|json| json + "\n").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_plans::{layer, seed_model_plan, small_plan};
    use crate::emit::{summary_json, summary_text};

    // The byte-for-byte comparison with Keras 3's own output is the integration test
    // `summary_matches_the_keras_3_reference`, which reads ../shared/reference at run time.

    #[test]
    fn seed_model_table_has_keras_rows_and_totals() {
        let text = summary_text(&seed_model_plan());
        assert!(text.contains("│ conv1d (Conv1D)                 │ (None, 126, 16)        │         3,088 │\n"));
        assert!(text.ends_with(" Total params: 40,152 (156.84 KB)\n Trainable params: 40,152 (156.84 KB)\n Non-trainable params: 0 (0.00 B)\n"));
    }

    #[test]
    fn counts_and_lengths_written_by_hand_match_the_library_ones() {
        let mut counts = vec![0, 1, 9, 10, 999, 1_000, 72, 3_600_000, 999_999_999, 1_000_000_000, u64::MAX];
        counts.extend((0..64).map(|bit| (1u64 << bit) - 1));
        for count in counts {
            let mut text = String::from("x");
            push_count(&mut text, count);
            assert_eq!(text, format!("x{}", count_text(count)), "{count}");
        }
        for text in ["", "b.0.add (Add)", "(None, 8)", "…", "b.49998.add[0][0…", "┃ héllo ━ wörld ┃", "日本語"]
        {
            assert_eq!(char_len(text), text.chars().count(), "{text}");
        }
    }

    #[test]
    fn shapes_print_as_python_tuples() {
        let python_shape = |shape: &[usize]| {
            let mut text = String::new();
            push_python_shape(&mut text, shape);
            text
        };
        assert_eq!(python_shape(&[]), "(None,)");
        assert_eq!(python_shape(&[496]), "(None, 496)");
        assert_eq!(python_shape(&[126, 16]), "(None, 126, 16)");
    }

    #[test]
    fn memory_sizes_follow_keras_readable_memory_size() {
        assert_eq!(readable_memory_size(0.0), "0.00 B");
        assert_eq!(readable_memory_size(1023.0), "1023.00 B");
        assert_eq!(readable_memory_size(1024.0), "1.00 KB");
        assert_eq!(readable_memory_size(160608.0), "156.84 KB");
        // Python's `{:.2f}` rounds the exact binary value half to even: 1.125 → 1.12.
        assert_eq!(readable_memory_size(1152.0), "1.12 KB");
        assert_eq!(readable_memory_size(3.0 * 1024.0 * 1024.0), "3.00 MB");
        assert_eq!(readable_memory_size(1024f64.powi(5)), "1.00 PB");
        // Keras divides once more after PB but keeps the label.
        assert_eq!(readable_memory_size(1024f64.powi(6)), "1.00 PB");
    }

    #[test]
    fn non_trainable_params_are_counted_apart() {
        let text = summary_text(&small_plan());
        assert!(
            text.ends_with(
                " Total params: 11 (44.00 B)\n Trainable params: 9 (36.00 B)\n Non-trainable params: 2 (8.00 B)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn long_cells_wrap_at_spaces_as_keras_does() {
        let mut plan = seed_model_plan();
        plan.layers = vec![layer("global_average_pooling2d", "GlobalAveragePooling2D", &[4], 0)];
        // What Keras 3.15 printed for this row.
        let expected = "│ global_average_pooling2d        │ (None, 4)              │             0 │\n\
                        │ (GlobalAveragePooling2D)        │                        │               │\n";
        assert!(summary_text(&plan).contains(expected), "{}", summary_text(&plan));
    }

    /// `wrap` of `content` as text, checking that each line counts its characters and that an
    /// ASCII content wraps the same counted either way.
    fn wrapped(content: &str, width: usize, overflow: Overflow) -> Vec<String> {
        let lines = wrap(content, width, overflow, false);
        if content.is_ascii() {
            assert_eq!(wrap(content, width, overflow, true), lines, "{content:?} in {width}");
        }
        lines
            .iter()
            .map(|piece| {
                let mut line = String::new();
                piece.push_to(&mut line);
                assert_eq!(char_len(&line), piece.chars, "{line:?}");
                line
            })
            .collect()
    }

    /// Cells of words, spaces (single, doubled, leading, trailing) and long words, ASCII or
    /// not, wrap to lines of at most the width (a cut word's `…` included); an ASCII cell wraps
    /// the same whether counted by bytes or by characters.
    #[test]
    fn wrapped_lines_fit_and_ascii_cells_wrap_alike() {
        let pieces = ["a", "bb", "conv2d_transpose", "é", "日本語", " ", "  ", "(Dense)", "[0][0],", "x_1"];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4000 {
            let mut content = String::new();
            for _ in 0..(state % 7) {
                // xorshift: a fixed sequence of cells.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                content.push_str(pieces[(state % pieces.len() as u64) as usize]);
                if state.is_multiple_of(3) {
                    content.push(' ');
                }
            }
            for width in [1, 2, 5, 17, 31] {
                for overflow in [Overflow::Fold, Overflow::Ellipsis] {
                    for line in wrapped(&content, width, overflow) {
                        assert!(char_len(&line) <= width, "{line:?} of {content:?} in {width}");
                    }
                }
            }
        }
    }

    #[test]
    fn words_longer_than_their_column_are_folded_not_cut() {
        assert_eq!(
            wrapped("transformer.h.11.attn.c_attn.weight (Param)", 31, Overflow::Fold),
            ["transformer.h.11.attn.c_attn.we", "ight (Param)"]
        );
        assert_eq!(wrapped("", 5, Overflow::Fold), [""]);
        assert_eq!(wrapped("ab cd ef", 5, Overflow::Fold), ["ab cd", "ef"]);
        // Keras (rich) cuts the word instead, as functional summaries show it.
        assert_eq!(
            wrapped("convnext_tiny_stage_0 (LayerNormalization)", 19, Overflow::Ellipsis),
            ["convnext_tiny_stag…", "(LayerNormalizatio…"]
        );
        let mut plan = seed_model_plan();
        plan.layers = vec![layer("x", "Dense", &[123_456_789, 987_654_321, 5], 12_345_678_901_234)];
        let expected = "│ x (Dense)                       │ (None, 123456789,      │ 12,345,678,90 │\n\
                        │                                 │ 987654321, 5)          │         1,234 │\n";
        assert!(summary_text(&plan).contains(expected), "{}", summary_text(&plan));
    }

    #[test]
    fn a_table_of_many_batches_is_written_whole_and_in_order() {
        let mut plan = seed_model_plan();
        let rows = 3 * CHUNK_ROWS * BATCH_CHUNKS + CHUNK_ROWS / 2 + 1;
        plan.layers = (0..rows).map(|index| layer(&format!("dense_{index}"), "Dense", &[8], 72)).collect();
        let mut pieces = Pieces::default();
        write_text(&plan, &mut pieces).expect("written");
        assert!(pieces.writes >= 3, "{} writes", pieces.writes);
        let text = String::from_utf8(pieces.bytes).expect("UTF-8");
        let names: Vec<&str> = text
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .filter(|w| w.starts_with("dense_"))
            .collect();
        let expected: Vec<String> = (0..rows).map(|index| format!("dense_{index}")).collect();
        assert_eq!(names, expected);
        assert_eq!(text.lines().filter(|line| line.starts_with('├')).count(), rows - 1);
        assert_eq!(text, summary_text(&plan));
        // The rows made on every thread, chunk by chunk, are the rows made in one pass.
        let table = Table { columns: &SEQUENTIAL_COLUMNS, overflow: Overflow::Fold, blank: None };
        let mut one_pass = String::new();
        push_rows(&mut one_pass, &table, &table.rule_line(&ROW_RULE), &plan.layers, 0, false);
        assert!(text.contains(&one_pass));
    }

    /// Lines written around a blank line's cells are the lines written cell by cell: ASCII or
    /// not, cut with `…`, folded, wrapped.
    #[test]
    fn blank_line_rows_equal_rows_written_cell_by_cell() {
        let names = [
            "d",
            "dense_1",
            "dé",
            " lead",
            "",
            "a_name_far_too_long_for_its_column_of_the_table",
            "x y z w v u t s r",
            "日本語の層の名前はとても長い",
        ];
        let rows: Vec<LayerRow> = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let mut row = layer(name, "Dense", &[8, index], 72 * index as u64);
                row.connected_to = match index % 3 {
                    0 => smallvec::SmallVec::new(),
                    1 => smallvec::smallvec![format!("{name}[0][0]")],
                    _ => smallvec::smallvec![
                        "input_layer[0][0]".to_string(),
                        format!("{name}[1][0]"),
                        "é[0][0]".to_string()
                    ],
                };
                row
            })
            .collect();
        let cases: [(&'static [Column], Overflow, bool); 3] = [
            (&SEQUENTIAL_COLUMNS, Overflow::Fold, false),
            (&SEQUENTIAL_COLUMNS, Overflow::Ellipsis, false),
            (&FUNCTIONAL_COLUMNS, Overflow::Ellipsis, true),
        ];
        for (columns, overflow, connections) in cases {
            let fast = Table::new(columns, overflow);
            let plain = Table { columns, overflow, blank: None };
            let (mut with_blank, mut cell_by_cell) = (String::new(), String::new());
            push_rows(&mut with_blank, &fast, &fast.rule_line(&ROW_RULE), &rows, 0, connections);
            push_rows(&mut cell_by_cell, &plain, &plain.rule_line(&ROW_RULE), &rows, 0, connections);
            assert_eq!(with_blank, cell_by_cell);
        }
    }

    /// A writer that counts the writes it gets.
    #[derive(Default)]
    struct Pieces {
        bytes: Vec<u8>,
        writes: usize,
    }

    impl std::io::Write for Pieces {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.writes += 1;
            self.bytes.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn rows_are_separated_but_not_after_the_last() {
        let text = summary_text(&seed_model_plan());
        let separators = text.lines().filter(|line| line.starts_with('├')).count();
        assert_eq!(separators, seed_model_plan().layers.len() - 1);
        let mut empty = seed_model_plan();
        empty.layers.clear();
        let text = summary_text(&empty);
        assert!(!text.contains('├') && !text.contains('│'), "{text}");
    }

    #[test]
    fn every_table_line_has_the_standard_width() {
        let text = summary_text(&seed_model_plan());
        let table_lines: Vec<&str> = text.lines().skip(1).take_while(|line| !line.starts_with(' ')).collect();
        assert_eq!(table_lines.len(), 3 + 7 + 6 + 1);
        for line in table_lines {
            assert_eq!(line.chars().count(), 33 + 24 + 15 + 4, "{line}");
        }
    }

    #[test]
    fn json_summary_has_the_documented_shape_and_key_order() {
        let expected = r#"{
  "name": "small",
  "layers": [
    {
      "name": "dense",
      "type": "Dense",
      "output_shape": [
        null,
        2
      ],
      "params": 8
    },
    {
      "name": "norm",
      "type": "BatchNormalization",
      "output_shape": [
        null,
        2
      ],
      "params": 2
    }
  ],
  "total_params": 11,
  "trainable_params": 9,
  "non_trainable_params": 2
}
"#;
        assert_eq!(summary_json(&small_plan()), expected);
    }

    #[test]
    fn a_file_holding_uncounted_tensors_says_how_many_values_it_holds() {
        let mut plan = small_plan();
        assert!(!summary_text(&plan).contains("In the file"));
        assert!(!summary_json(&plan).contains("values_in_file"));
        let mut extra = crate::emit::test_plans::tensor("lstm.bias_hh_l0", &[12], "zeros", true);
        extra.counted = false;
        plan.tensors.push(extra);
        let text = summary_text(&plan);
        assert!(
            text.ends_with(
                " Total params: 11 (44.00 B)\n Trainable params: 9 (36.00 B)\n Non-trainable params: 2 (8.00 B)\n \
                 In the file: 23 values; 12 of them in tensors only the torch layout has\n"
            ),
            "{text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&summary_json(&plan)).expect("valid JSON");
        assert_eq!(parsed["total_params"], 11);
        assert_eq!(parsed["values_in_file"], 23);
    }

    #[test]
    fn json_summary_totals_match_the_seed_model() {
        let parsed: serde_json::Value = serde_json::from_str(&summary_json(&seed_model_plan())).expect("valid JSON");
        assert_eq!(parsed["name"], "sequential");
        assert_eq!(parsed["total_params"], 40152);
        assert_eq!(parsed["trainable_params"], 40152);
        assert_eq!(parsed["non_trainable_params"], 0);
        assert_eq!(parsed["layers"][2]["output_shape"], serde_json::json!([null, 496]));
        assert_eq!(parsed["layers"][0]["type"], "Conv1D");
    }
}
