//! Parser for the expression language: a nom lexer that reads one token at a time, and an
//! operator-precedence parser over those tokens that keeps its own stack, so no input can
//! overflow the machine stack. `specs/grammar.md` is normative.

use super::DslError;
use super::ast::{Arg, BinOp, Call, Expr, ExprKind, Ident};
use crate::diagnostic::Code;
use nom::Parser as _;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while};
use nom::character::complete::{char, digit0, digit1, multispace0, one_of, satisfy};
use nom::combinator::opt;
use nom::multi::many0;
use std::ops::Range;

/// How many levels of parentheses, calls, signs and operators an expression may nest.
pub const MAX_NESTING: usize = 256;

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    Number(f64),
    Ident,
    Str(String),
    LParen,
    RParen,
    Comma,
    Equals,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    StarStar,
    EqEq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    End,
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    span: Range<usize>,
}

fn syntax_error(message: impl Into<String>, span: Range<usize>) -> DslError {
    DslError { code: Code::ExprSyntax, message: message.into(), span, help: None }
}

fn with_help(mut error: DslError, help: impl Into<String>) -> DslError {
    error.help = Some(help.into());
    error
}

fn nesting_error(span: Range<usize>) -> DslError {
    with_help(
        syntax_error(format!("expression nests deeper than {MAX_NESTING} levels"), span),
        "split the expression into simpler parts",
    )
}

/// The prefix of `input` that `parser` matches. Measured by lengths: nom's `recognize` finds the
/// prefix by pointer offset, which goes wrong when a parser returns an empty rest that does not
/// point into `input` (seen with `digit0` on `0.5`).
fn matched<'a, P>(input: &'a str, mut parser: P) -> Option<&'a str>
where
    P: nom::Parser<&'a str, Error = nom::error::Error<&'a str>>,
{
    let (rest, _) = parser.parse(input).ok()?;
    input.get(..input.len().checked_sub(rest.len())?)
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `1`, `0.5`, `.5`, `2.`, `1e-3`: digits with an optional fraction and exponent, never a sign.
fn number_lexeme(input: &str) -> Option<&str> {
    let mantissa = alt(((digit1, opt((char('.'), digit0))).map(|_| ()), (char('.'), digit1).map(|_| ())));
    matched(input, (mantissa, opt((one_of("eE"), opt(one_of("+-")), digit1))))
}

/// A name, or a dotted name (`rope_scaling.factor`: a nested key of a config.json).
fn ident_lexeme(input: &str) -> Option<&str> {
    let part = || (satisfy(|c| c.is_ascii_alphabetic() || c == '_'), take_while(is_ident_continue));
    matched(input, (part(), many0((char('.'), part()))))
}

fn punctuation_lexeme(input: &str) -> Option<&str> {
    let punctuation = alt((tag("**"), tag("*"), tag("/"), tag("+"), tag("-"), tag("("), tag(")"), tag(","), tag("=")));
    matched(input, punctuation)
}

/// Reads the token that starts at byte `pos` of `text`, after any whitespace.
fn lex(text: &str, pos: usize) -> Result<Token, DslError> {
    let rest = text.get(pos..).unwrap_or("");
    let after_space = match multispace0::<&str, nom::error::Error<&str>>(rest) {
        Ok((after, _)) => after,
        Err(_) => rest,
    };
    let start = text.len() - after_space.len();
    let token = |kind: TokenKind, len: usize| Ok(Token { kind, span: start..start + len });

    let Some(first) = after_space.chars().next() else {
        return token(TokenKind::End, 0);
    };
    let double = match after_space.get(..2) {
        Some("==") => Some(TokenKind::EqEq),
        Some("!=") => Some(TokenKind::NotEq),
        Some("<=") => Some(TokenKind::LessEq),
        Some(">=") => Some(TokenKind::GreaterEq),
        _ => None,
    };
    if let Some(kind) = double {
        return token(kind, 2);
    }
    // The commonest tokens without the combinators (a call may have 200,000 arguments).
    let single = match first {
        '%' => Some(TokenKind::Percent),
        '<' => Some(TokenKind::Less),
        '>' => Some(TokenKind::Greater),
        ',' => Some(TokenKind::Comma),
        '(' => Some(TokenKind::LParen),
        ')' => Some(TokenKind::RParen),
        '+' => Some(TokenKind::Plus),
        '-' => Some(TokenKind::Minus),
        '/' => Some(TokenKind::Slash),
        '=' => Some(TokenKind::Equals),
        '*' if !after_space.starts_with("**") => Some(TokenKind::Star),
        _ => None,
    };
    if let Some(kind) = single {
        return token(kind, 1);
    }
    if let Some(lexeme) = number_lexeme(after_space) {
        let after = &after_space[lexeme.len()..];
        // `2x`, `1e`, `1.2.3`: report the whole run rather than a confusing follow-up error.
        let tail_len = after.find(|c: char| !(is_ident_continue(c) || c == '.')).unwrap_or(after.len());
        if tail_len > 0 {
            let run = &after_space[..lexeme.len() + tail_len];
            return Err(syntax_error(format!("malformed number `{run}`"), start..start + run.len()));
        }
        let span = start..start + lexeme.len();
        return match lexeme.parse::<f64>() {
            Ok(value) if value.is_finite() => token(TokenKind::Number(value), lexeme.len()),
            Ok(_) => Err(syntax_error(
                format!("number `{lexeme}` is too large for a 64-bit float (the largest is about 1.8e308)"),
                span,
            )),
            Err(_) => Err(syntax_error(format!("malformed number `{lexeme}`"), span)),
        };
    }
    if let Some(lexeme) = ident_lexeme(after_space) {
        return token(TokenKind::Ident, lexeme.len());
    }
    if first == '"' || first == '\'' {
        let body = &after_space[1..];
        let quoted = matched(body, (take_till(|c| c == first), char(first)));
        return match quoted {
            Some(quoted) => {
                let content = &quoted[..quoted.len() - first.len_utf8()];
                token(TokenKind::Str(content.to_string()), quoted.len() + 1)
            }
            None => Err(with_help(
                syntax_error(format!("unclosed string: no closing `{first}`"), start..start + 1),
                format!("end the string with `{first}`"),
            )),
        };
    }
    if let Some(lexeme) = punctuation_lexeme(after_space) {
        let kind = match lexeme {
            "**" => TokenKind::StarStar,
            "*" => TokenKind::Star,
            "/" => TokenKind::Slash,
            "+" => TokenKind::Plus,
            "-" => TokenKind::Minus,
            "(" => TokenKind::LParen,
            ")" => TokenKind::RParen,
            "," => TokenKind::Comma,
            _ => TokenKind::Equals,
        };
        return token(kind, lexeme.len());
    }
    Err(syntax_error(format!("unexpected character `{}`", first.escape_debug()), start..start + first.len_utf8()))
}

/// An expression with the number of levels it nests (0 for a leaf).
struct Nested {
    expr: Expr,
    levels: usize,
}

impl Nested {
    fn leaf(kind: ExprKind, span: Range<usize>) -> Nested {
        Nested { expr: Expr { kind, span }, levels: 0 }
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the first character not yet consumed.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, pos: 0 }
    }

    fn peek(&self) -> Result<Token, DslError> {
        lex(self.text, self.pos)
    }

    fn bump(&mut self, token: &Token) {
        self.pos = token.span.end;
    }

    /// How a token reads in "found …".
    fn describe(&self, token: &Token) -> String {
        match token.kind {
            TokenKind::End => "end of input".to_string(),
            _ => format!("`{}`", self.text.get(token.span.clone()).unwrap_or("")),
        }
    }

    /// The end of input, or an error at whatever is left over.
    fn expect_end(&self, what: &str) -> Result<(), DslError> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::End => Ok(()),
            TokenKind::RParen => Err(with_help(syntax_error("unexpected `)`", token.span), "there is no matching `(`")),
            _ => Err(syntax_error(format!("expected {what}, found {}", self.describe(&token)), token.span)),
        }
    }

    /// Parses an expression with an explicit stack rather than recursion, so no input can
    /// overflow the machine stack. `depth` is how many levels already enclose it; `after` names
    /// what precedes it, for "expected an expression after …". Stops, without consuming it, at
    /// the first token that cannot continue the expression outside all parentheses.
    fn expression(&mut self, depth: usize, mut after: &'static str) -> Result<Nested, DslError> {
        let mut operands: Vec<Nested> = Vec::new();
        let mut frames: Vec<Frame> = Vec::new();
        loop {
            // Expecting an operand: signs and `(` open frames; a leaf or a finished call is an operand.
            let token = self.peek()?;
            match token.kind {
                TokenKind::Plus | TokenKind::Minus => {
                    self.bump(&token);
                    after = operator_text(&token);
                    push_frame(&mut frames, depth, Frame::Sign(token))?;
                    continue;
                }
                TokenKind::LParen => {
                    self.bump(&token);
                    after = "`(`";
                    push_frame(&mut frames, depth, Frame::Paren(token))?;
                    continue;
                }
                TokenKind::Number(value) => {
                    self.bump(&token);
                    operands.push(Nested::leaf(ExprKind::Number(value), token.span));
                }
                TokenKind::Str(ref content) => {
                    self.bump(&token);
                    operands.push(Nested::leaf(ExprKind::Str(content.clone()), token.span));
                }
                TokenKind::Ident if self.keyword(&token) == Some("not") => {
                    self.bump(&token);
                    after = "`not`";
                    push_frame(&mut frames, depth, Frame::Not(token))?;
                    continue;
                }
                TokenKind::Ident if self.keyword(&token).is_some() => {
                    let after = if after.is_empty() { String::new() } else { format!(" after {after}") };
                    let found = self.describe(&token);
                    return Err(syntax_error(format!("expected an expression{after}, found {found}"), token.span));
                }
                TokenKind::Ident => {
                    self.bump(&token);
                    let name = self.text.get(token.span.clone()).unwrap_or("").to_string();
                    let open = self.peek()?;
                    if open.kind != TokenKind::LParen {
                        operands.push(Nested::leaf(ExprKind::Var(name), token.span));
                    } else {
                        self.bump(&open);
                        after = "`(`";
                        let callee = Ident { name, span: token.span };
                        push_frame(&mut frames, depth, Frame::Call { callee, open, args: Vec::new() })?;
                        continue;
                    }
                }
                // Right after `(` or `,` of a call: `f()` or a trailing comma `f(1,)`.
                TokenKind::RParen if matches!(frames.last(), Some(Frame::Call { .. })) => {
                    self.bump(&token);
                    let call = finish_call(frames.pop(), None, token.span.end)?;
                    operands.push(call);
                }
                _ => {
                    let after = if after.is_empty() { String::new() } else { format!(" after {after}") };
                    let found = self.describe(&token);
                    return Err(syntax_error(format!("expected an expression{after}, found {found}"), token.span));
                }
            }

            // Expecting an operator, `,` or `)`; loops while `)` closes groups and calls.
            loop {
                let token = self.peek()?;
                if let Some((op, token)) = self.binary_operator(token.clone())? {
                    let precedence = precedence(op);
                    reduce_while(&mut frames, &mut operands, |top| {
                        top > precedence || (top == precedence && op != BinOp::Pow)
                    })?;
                    self.bump(&token);
                    after = op_text(op);
                    push_frame(&mut frames, depth, Frame::Binary(op, token))?;
                    break;
                }
                reduce_while(&mut frames, &mut operands, |_| true)?;
                let innermost = frames.last();
                match (&token.kind, innermost) {
                    (TokenKind::RParen, Some(Frame::Paren(_))) => {
                        self.bump(&token);
                        let Some(Frame::Paren(open)) = frames.pop() else {
                            return Err(internal_error());
                        };
                        let inner = operands.pop().ok_or_else(internal_error)?;
                        let span = open.span.start..token.span.end;
                        operands.push(node(inner.expr.kind, span, inner.levels + 1, &open)?);
                    }
                    (TokenKind::RParen, Some(Frame::Call { .. })) => {
                        self.bump(&token);
                        let call = finish_call(frames.pop(), operands.pop(), token.span.end)?;
                        operands.push(call);
                    }
                    (TokenKind::Comma, Some(Frame::Call { .. })) => {
                        self.bump(&token);
                        let argument = operands.pop().ok_or_else(internal_error)?;
                        if let Some(Frame::Call { args, .. }) = frames.last_mut() {
                            args.push(argument);
                        }
                        after = "`,`";
                        break;
                    }
                    (TokenKind::End, Some(Frame::Paren(open) | Frame::Call { open, .. })) => {
                        return Err(unclosed_paren(open.span.clone()));
                    }
                    (TokenKind::Equals, Some(Frame::Call { callee, .. })) => {
                        return Err(with_help(
                            syntax_error(format!("`{}` takes no keyword arguments", callee.name), token.span),
                            "keyword arguments (`name=value`) only go in initializer calls",
                        ));
                    }
                    (_, Some(Frame::Paren(_))) => {
                        let found = self.describe(&token);
                        return Err(syntax_error(format!("expected `)` or an operator, found {found}"), token.span));
                    }
                    (_, Some(Frame::Call { .. })) => {
                        let found = self.describe(&token);
                        return Err(syntax_error(format!("expected `,` or `)`, found {found}"), token.span));
                    }
                    (_, _) => return operands.pop().ok_or_else(internal_error),
                }
            }
        }
    }

    /// The word operator (`and`, `or`, `not`, `in`) a token is, if it is one.
    fn keyword(&self, token: &Token) -> Option<&'static str> {
        if token.kind != TokenKind::Ident {
            return None;
        }
        KEYWORDS.iter().copied().find(|word| self.text.get(token.span.clone()) == Some(*word))
    }

    /// The binary operator `token` starts, with its whole token (`not in` is two words).
    fn binary_operator(&self, token: Token) -> Result<Option<(BinOp, Token)>, DslError> {
        let op = match token.kind {
            TokenKind::Plus => BinOp::Add,
            TokenKind::Minus => BinOp::Sub,
            TokenKind::Star => BinOp::Mul,
            TokenKind::Slash => BinOp::Div,
            TokenKind::Percent => BinOp::Mod,
            TokenKind::StarStar => BinOp::Pow,
            TokenKind::EqEq => BinOp::Eq,
            TokenKind::NotEq => BinOp::Ne,
            TokenKind::Less => BinOp::Lt,
            TokenKind::LessEq => BinOp::Le,
            TokenKind::Greater => BinOp::Gt,
            TokenKind::GreaterEq => BinOp::Ge,
            TokenKind::Ident => match self.keyword(&token) {
                Some("and") => BinOp::And,
                Some("or") => BinOp::Or,
                Some("in") => BinOp::In,
                Some("not") => {
                    let next = lex(self.text, token.span.end)?;
                    if self.keyword(&next) != Some("in") {
                        let found = self.describe(&next);
                        return Err(syntax_error(format!("expected `in` after `not`, found {found}"), next.span));
                    }
                    let span = token.span.start..next.span.end;
                    return Ok(Some((BinOp::NotIn, Token { kind: TokenKind::Ident, span })));
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok(Some((op, token)))
    }

    /// call := ident ["(" [arg ("," arg)* [","]] ")"]
    ///
    /// Stops after the argument that is one more than `most(callee)`: the caller rejects such a
    /// call whatever follows, so the rest is not read.
    fn call(&mut self, most: &dyn Fn(&str) -> usize) -> Result<Call, DslError> {
        let name_token = self.peek()?;
        if name_token.kind != TokenKind::Ident {
            let found = self.describe(&name_token);
            return Err(syntax_error(format!("expected an initializer name, found {found}"), name_token.span));
        }
        self.bump(&name_token);
        let name = self.text.get(name_token.span.clone()).unwrap_or("").to_string();
        let callee = Ident { name, span: name_token.span.clone() };

        let open = self.peek()?;
        match open.kind {
            TokenKind::End => {
                return Ok(Call { callee, args: Vec::new(), span: name_token.span });
            }
            TokenKind::LParen => self.bump(&open),
            _ => {
                let found = self.describe(&open);
                let message = format!("expected `(` or end of input after `{}`, found {found}", callee.name);
                return Err(syntax_error(message, open.span));
            }
        }

        let limit = most(&callee.name);
        let mut args: Vec<Arg> = Vec::new();
        let mut after = "`(`";
        let mut after_keyword = false;
        let end = loop {
            let token = self.peek()?;
            if token.kind == TokenKind::RParen {
                self.bump(&token);
                break token.span.end;
            }
            let argument = self.argument(after_keyword, after)?;
            after_keyword |= argument.name.is_some();
            let argument_end = argument.value.span.end;
            args.push(argument);
            if args.len() > limit {
                return Ok(Call { callee, args, span: name_token.span.start..argument_end });
            }
            let token = self.peek()?;
            match token.kind {
                TokenKind::Comma => {
                    self.bump(&token);
                    after = "`,`";
                }
                TokenKind::RParen => {
                    self.bump(&token);
                    break token.span.end;
                }
                TokenKind::End => return Err(unclosed_paren(open.span)),
                _ => {
                    let found = self.describe(&token);
                    return Err(syntax_error(format!("expected `,` or `)`, found {found}"), token.span));
                }
            }
        };
        self.expect_end("end of input after the initializer call")?;
        Ok(Call { callee, args, span: name_token.span.start..end })
    }

    /// arg := [ident "="] sum
    fn argument(&mut self, after_keyword: bool, after: &'static str) -> Result<Arg, DslError> {
        let token = self.peek()?;
        if token.kind == TokenKind::Ident {
            let equals = lex(self.text, token.span.end)?;
            if equals.kind == TokenKind::Equals {
                self.bump(&equals);
                let name = self.text.get(token.span.clone()).unwrap_or("").to_string();
                let value = self.expression(1, "`=`")?.expr;
                return Ok(Arg { name: Some(Ident { name, span: token.span }), value });
            }
        }
        let value = self.expression(1, after)?.expr;
        if after_keyword {
            return Err(with_help(
                syntax_error("positional argument after a keyword argument", value.span),
                "put positional arguments before keyword arguments, or name this one",
            ));
        }
        Ok(Arg { name: None, value })
    }
}

/// The words that are operators, never names.
pub const KEYWORDS: [&str; 4] = ["and", "or", "not", "in"];

/// How a sign token reads in "after …".
fn operator_text(token: &Token) -> &'static str {
    match token.kind {
        TokenKind::Plus => "`+`",
        TokenKind::Minus => "`-`",
        _ => "",
    }
}

/// How a binary operator reads in "after …".
fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "`+`",
        BinOp::Sub => "`-`",
        BinOp::Mul => "`*`",
        BinOp::Div => "`/`",
        BinOp::Mod => "`%`",
        BinOp::Pow => "`**`",
        BinOp::Eq => "`==`",
        BinOp::Ne => "`!=`",
        BinOp::Lt => "`<`",
        BinOp::Le => "`<=`",
        BinOp::Gt => "`>`",
        BinOp::Ge => "`>=`",
        BinOp::In => "`in`",
        BinOp::NotIn => "`not in`",
        BinOp::And => "`and`",
        BinOp::Or => "`or`",
    }
}

/// A construct waiting for its operand(s); each one is a nesting level.
enum Frame {
    /// A unary `+` or `-`.
    Sign(Token),
    /// A `not`.
    Not(Token),
    /// A binary operator whose left operand is on the operand stack.
    Binary(BinOp, Token),
    /// A grouping `(`.
    Paren(Token),
    /// A function call whose earlier arguments are done.
    Call { callee: Ident, open: Token, args: Vec<Nested> },
}

/// Binding strength of a sign: tighter than `*`, looser than `**` (so `-2**2` is `-(2**2)`).
const SIGN_PRECEDENCE: u8 = 7;
/// Binding strength of `not`: looser than comparisons, tighter than `and` (as in Python).
const NOT_PRECEDENCE: u8 = 3;

/// Python's binding strengths, loosest first: `or`, `and`, (`not`), comparisons and `in`,
/// `+ -`, `* / %`, (signs), `**`.
fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In | BinOp::NotIn => 4,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
        BinOp::Pow => 8,
    }
}

/// Pushes a frame unless the operand it waits for would nest deeper than allowed.
fn push_frame(frames: &mut Vec<Frame>, depth: usize, frame: Frame) -> Result<(), DslError> {
    if depth + frames.len() + 1 > MAX_NESTING {
        let token = match &frame {
            Frame::Sign(token) | Frame::Not(token) | Frame::Binary(_, token) | Frame::Paren(token) => token,
            Frame::Call { open, .. } => open,
        };
        return Err(nesting_error(token.span.clone()));
    }
    frames.push(frame);
    Ok(())
}

/// Builds a node, refusing one that nests deeper than allowed; `at` is the token blamed.
fn node(kind: ExprKind, span: Range<usize>, levels: usize, at: &Token) -> Result<Nested, DslError> {
    if levels > MAX_NESTING {
        return Err(nesting_error(at.span.clone()));
    }
    Ok(Nested { expr: Expr { kind, span }, levels })
}

/// Applies pending signs and binary operators, innermost first, while `binds(precedence)` holds
/// for the innermost one; stops at a `(` or a call.
fn reduce_while(
    frames: &mut Vec<Frame>,
    operands: &mut Vec<Nested>,
    binds: impl Fn(u8) -> bool,
) -> Result<(), DslError> {
    loop {
        let precedence = match frames.last() {
            Some(Frame::Sign(_)) => SIGN_PRECEDENCE,
            Some(Frame::Not(_)) => NOT_PRECEDENCE,
            Some(Frame::Binary(op, _)) => precedence(*op),
            _ => return Ok(()),
        };
        if !binds(precedence) {
            return Ok(());
        }
        let operand = operands.pop().ok_or_else(internal_error)?;
        let reduced = match frames.pop() {
            Some(Frame::Sign(token)) => {
                let span = token.span.start..operand.expr.span.end;
                let levels = operand.levels + 1;
                if token.kind == TokenKind::Plus {
                    // `+x` is `x`; it still counts as a level, as its frame did.
                    node(operand.expr.kind, span, levels, &token)?
                } else {
                    node(ExprKind::Neg(Box::new(operand.expr)), span, levels, &token)?
                }
            }
            Some(Frame::Not(token)) => {
                let span = token.span.start..operand.expr.span.end;
                node(ExprKind::Not(Box::new(operand.expr)), span, operand.levels + 1, &token)?
            }
            Some(Frame::Binary(op, token)) => {
                let left = operands.pop().ok_or_else(internal_error)?;
                let span = left.expr.span.start..operand.expr.span.end;
                let levels = left.levels.max(operand.levels) + 1;
                node(ExprKind::Binary(op, Box::new(left.expr), Box::new(operand.expr)), span, levels, &token)?
            }
            _ => return Err(internal_error()),
        };
        operands.push(reduced);
    }
}

/// Closes a call frame with its last argument (none after `(` or a trailing `,`).
fn finish_call(frame: Option<Frame>, last: Option<Nested>, end: usize) -> Result<Nested, DslError> {
    let Some(Frame::Call { callee, open, mut args }) = frame else {
        return Err(internal_error());
    };
    args.extend(last);
    let levels = args.iter().map(|arg| arg.levels).max().unwrap_or(0) + 1;
    let span = callee.span.start..end;
    let args = args.into_iter().map(|arg| arg.expr).collect();
    node(ExprKind::Call(callee, args), span, levels, &open)
}

/// A broken invariant of the parser itself; reported rather than panicking.
fn internal_error() -> DslError {
    syntax_error("internal error: the expression parser lost track of its operands", 0..0)
}

fn unclosed_paren(open: Range<usize>) -> DslError {
    with_help(syntax_error("unclosed `(`", open), "add a `)` to close it")
}

pub fn parse_call(text: &str, most: &dyn Fn(&str) -> usize) -> Result<Call, DslError> {
    Parser::new(text).call(most)
}

pub fn parse_expr(text: &str) -> Result<Expr, DslError> {
    let mut parser = Parser::new(text);
    let expr = parser.expression(0, "")?.expr;
    parser.expect_end("an operator or end of input")?;
    Ok(expr)
}
