//! Parser for the expression language: a nom lexer that reads one token at a time, and a
//! recursive-descent parser over those tokens with a nesting limit. `specs/grammar.md` is normative.

use super::DslError;
use super::ast::{Arg, BinOp, Call, Expr, ExprKind, Ident};
use crate::diagnostic::Code;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while};
use nom::character::complete::{char, digit0, digit1, multispace0, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser as _};
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
    StarStar,
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

type Lexed<'a> = IResult<&'a str, &'a str>;

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `1`, `0.5`, `.5`, `2.`, `1e-3`: digits with an optional fraction and exponent, never a sign.
fn number_lexeme(input: &str) -> Lexed<'_> {
    recognize((
        alt((recognize((digit1, opt((char('.'), digit0)))), recognize((char('.'), digit1)))),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(input)
}

fn ident_lexeme(input: &str) -> Lexed<'_> {
    recognize((satisfy(|c| c.is_ascii_alphabetic() || c == '_'), take_while(is_ident_continue))).parse(input)
}

fn punctuation_lexeme(input: &str) -> Lexed<'_> {
    alt((tag("**"), tag("*"), tag("/"), tag("+"), tag("-"), tag("("), tag(")"), tag(","), tag("="))).parse(input)
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
    if let Ok((after, lexeme)) = number_lexeme(after_space) {
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
    if let Ok((_, lexeme)) = ident_lexeme(after_space) {
        return token(TokenKind::Ident, lexeme.len());
    }
    if first == '"' || first == '\'' {
        let body = &after_space[1..];
        let closed: IResult<&str, &str> =
            (take_till(|c| c == first), char(first)).parse(body).map(|(after, (content, _))| (after, content));
        return match closed {
            Ok((_, content)) => token(TokenKind::Str(content.to_string()), content.len() + 2),
            Err(_) => Err(with_help(
                syntax_error(format!("unclosed string: no closing `{first}`"), start..start + 1),
                format!("end the string with `{first}`"),
            )),
        };
    }
    if let Ok((_, lexeme)) = punctuation_lexeme(after_space) {
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

    /// Refuses to go one level deeper than allowed, before recursing, so the stack stays small.
    fn enter(&self, depth: usize, token: &Token) -> Result<(), DslError> {
        if depth > MAX_NESTING { Err(nesting_error(token.span.clone())) } else { Ok(()) }
    }

    fn node(&self, kind: ExprKind, span: Range<usize>, levels: usize, at: &Token) -> Result<Nested, DslError> {
        if levels > MAX_NESTING {
            return Err(nesting_error(at.span.clone()));
        }
        Ok(Nested { expr: Expr { kind, span }, levels })
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

    /// sum := term (("+" | "-") term)*
    fn sum(&mut self, depth: usize, after: &str) -> Result<Nested, DslError> {
        let mut left = self.term(depth, after)?;
        loop {
            let token = self.peek()?;
            let op = match token.kind {
                TokenKind::Plus => BinOp::Add,
                TokenKind::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump(&token);
            let right = self.term(depth, operator_text(&token))?;
            left = self.binary(op, left, right, &token)?;
        }
    }

    /// term := unary (("*" | "/") unary)*
    fn term(&mut self, depth: usize, after: &str) -> Result<Nested, DslError> {
        let mut left = self.unary(depth, after)?;
        loop {
            let token = self.peek()?;
            let op = match token.kind {
                TokenKind::Star => BinOp::Mul,
                TokenKind::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump(&token);
            let right = self.unary(depth, operator_text(&token))?;
            left = self.binary(op, left, right, &token)?;
        }
    }

    fn binary(&self, op: BinOp, left: Nested, right: Nested, at: &Token) -> Result<Nested, DslError> {
        let span = left.expr.span.start..right.expr.span.end;
        let levels = left.levels.max(right.levels) + 1;
        self.node(ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr)), span, levels, at)
    }

    /// unary := ("-" | "+") unary | power
    fn unary(&mut self, depth: usize, after: &str) -> Result<Nested, DslError> {
        let token = self.peek()?;
        if !matches!(token.kind, TokenKind::Minus | TokenKind::Plus) {
            return self.power(depth, after);
        }
        self.bump(&token);
        self.enter(depth + 1, &token)?;
        let operand = self.unary(depth + 1, operator_text(&token))?;
        let span = token.span.start..operand.expr.span.end;
        if token.kind == TokenKind::Plus {
            // `+x` is `x`; it still counts as a level so the recursion guard and the count agree.
            let kind = operand.expr.kind;
            return self.node(kind, span, operand.levels + 1, &token);
        }
        self.node(ExprKind::Neg(Box::new(operand.expr)), span, operand.levels + 1, &token)
    }

    /// power := primary ["**" unary]  — right-associative, and tighter than a sign on its left.
    fn power(&mut self, depth: usize, after: &str) -> Result<Nested, DslError> {
        let base = self.primary(depth, after)?;
        let token = self.peek()?;
        if token.kind != TokenKind::StarStar {
            return Ok(base);
        }
        self.bump(&token);
        self.enter(depth + 1, &token)?;
        let exponent = self.unary(depth + 1, "`**`")?;
        self.binary(BinOp::Pow, base, exponent, &token)
    }

    /// primary := number | string | ident ["(" arguments ")"] | "(" sum ")"
    fn primary(&mut self, depth: usize, after: &str) -> Result<Nested, DslError> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Number(value) => {
                self.bump(&token);
                Ok(Nested::leaf(ExprKind::Number(value), token.span))
            }
            TokenKind::Str(ref content) => {
                self.bump(&token);
                Ok(Nested::leaf(ExprKind::Str(content.clone()), token.span))
            }
            TokenKind::Ident => {
                self.bump(&token);
                let name = self.text.get(token.span.clone()).unwrap_or("").to_string();
                let open = self.peek()?;
                if open.kind != TokenKind::LParen {
                    return Ok(Nested::leaf(ExprKind::Var(name), token.span));
                }
                self.bump(&open);
                self.enter(depth + 1, &open)?;
                let (args, end) = self.function_arguments(depth + 1, &open, &name)?;
                let levels = args.iter().map(|arg| arg.levels).max().unwrap_or(0) + 1;
                let callee = Ident { name, span: token.span.clone() };
                let args = args.into_iter().map(|arg| arg.expr).collect();
                self.node(ExprKind::Call(callee, args), token.span.start..end, levels, &open)
            }
            TokenKind::LParen => {
                self.bump(&token);
                self.enter(depth + 1, &token)?;
                let inner = self.sum(depth + 1, "`(`")?;
                let close = self.peek()?;
                match close.kind {
                    TokenKind::RParen => self.bump(&close),
                    TokenKind::End => return Err(unclosed_paren(token.span)),
                    _ => {
                        let found = self.describe(&close);
                        return Err(syntax_error(format!("expected `)` or an operator, found {found}"), close.span));
                    }
                }
                let span = token.span.start..close.span.end;
                self.node(inner.expr.kind, span, inner.levels + 1, &token)
            }
            _ => {
                let after = if after.is_empty() { String::new() } else { format!(" after {after}") };
                let found = self.describe(&token);
                Err(syntax_error(format!("expected an expression{after}, found {found}"), token.span))
            }
        }
    }

    /// The arguments of a function call inside an expression, after its `(`; returns them and
    /// the end of the closing `)`.
    fn function_arguments(
        &mut self,
        depth: usize,
        open: &Token,
        function: &str,
    ) -> Result<(Vec<Nested>, usize), DslError> {
        let mut args = Vec::new();
        let mut after = "`(`";
        loop {
            let token = self.peek()?;
            if token.kind == TokenKind::RParen {
                self.bump(&token);
                return Ok((args, token.span.end));
            }
            args.push(self.sum(depth, after)?);
            let token = self.peek()?;
            match token.kind {
                TokenKind::Comma => {
                    self.bump(&token);
                    after = "`,`";
                }
                TokenKind::RParen => {
                    self.bump(&token);
                    return Ok((args, token.span.end));
                }
                TokenKind::End => return Err(unclosed_paren(open.span.clone())),
                TokenKind::Equals => {
                    return Err(with_help(
                        syntax_error(format!("`{function}` takes no keyword arguments"), token.span),
                        "keyword arguments (`name=value`) only go in initializer calls",
                    ));
                }
                _ => {
                    let found = self.describe(&token);
                    return Err(syntax_error(format!("expected `,` or `)`, found {found}"), token.span));
                }
            }
        }
    }

    /// call := ident ["(" [arg ("," arg)* [","]] ")"]
    fn call(&mut self) -> Result<Call, DslError> {
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
            TokenKind::End => return Ok(Call { callee, args: Vec::new(), span: name_token.span }),
            TokenKind::LParen => self.bump(&open),
            _ => {
                let found = self.describe(&open);
                let message = format!("expected `(` or end of input after `{}`, found {found}", callee.name);
                return Err(syntax_error(message, open.span));
            }
        }

        let mut args: Vec<Arg> = Vec::new();
        let mut after = "`(`";
        let end = loop {
            let token = self.peek()?;
            if token.kind == TokenKind::RParen {
                self.bump(&token);
                break token.span.end;
            }
            args.push(self.argument(args.iter().any(|arg| arg.name.is_some()), after)?);
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
    fn argument(&mut self, after_keyword: bool, after: &str) -> Result<Arg, DslError> {
        let token = self.peek()?;
        if token.kind == TokenKind::Ident {
            let equals = lex(self.text, token.span.end)?;
            if equals.kind == TokenKind::Equals {
                self.bump(&equals);
                let name = self.text.get(token.span.clone()).unwrap_or("").to_string();
                let value = self.sum(1, "`=`")?.expr;
                return Ok(Arg { name: Some(Ident { name, span: token.span }), value });
            }
        }
        let value = self.sum(1, after)?.expr;
        if after_keyword {
            return Err(with_help(
                syntax_error("positional argument after a keyword argument", value.span),
                "put positional arguments before keyword arguments, or name this one",
            ));
        }
        Ok(Arg { name: None, value })
    }
}

/// How an operator token reads in "after …".
fn operator_text(token: &Token) -> &'static str {
    match token.kind {
        TokenKind::Plus => "`+`",
        TokenKind::Minus => "`-`",
        TokenKind::Star => "`*`",
        TokenKind::Slash => "`/`",
        TokenKind::StarStar => "`**`",
        TokenKind::LParen => "`(`",
        TokenKind::Comma => "`,`",
        TokenKind::Equals => "`=`",
        _ => "",
    }
}

fn unclosed_paren(open: Range<usize>) -> DslError {
    with_help(syntax_error("unclosed `(`", open), "add a `)` to close it")
}

pub fn parse_call(text: &str) -> Result<Call, DslError> {
    Parser::new(text).call()
}

pub fn parse_expr(text: &str) -> Result<Expr, DslError> {
    let mut parser = Parser::new(text);
    let expr = parser.sum(0, "")?.expr;
    parser.expect_end("an operator or end of input")?;
    Ok(expr)
}
