//! Data-driven tests of the expression language: parses (as s-expressions), evaluations, errors,
//! the nesting limit on a small stack, and pseudo-random input that must never panic.

use super::ast::{BinOp, Call, Expr, ExprKind};
use super::{DslError, MAX_NESTING, Value, eval, eval_value, parse_call, parse_call_bounded, parse_expr};
use crate::diagnostic::Code;

/// `(op left right)`, `(neg x)`, `(f args…)`; with `spans`, every node gets `@start..end`.
fn sexpr(expr: &Expr, spans: bool) -> String {
    let at = if spans { format!("@{}..{}", expr.span.start, expr.span.end) } else { String::new() };
    match &expr.kind {
        ExprKind::Number(value) => format!("{value}{at}"),
        ExprKind::Str(content) => format!("{content:?}{at}"),
        ExprKind::Var(name) => format!("{name}{at}"),
        ExprKind::Neg(operand) => format!("(neg{at} {})", sexpr(operand, spans)),
        ExprKind::Not(operand) => format!("(not{at} {})", sexpr(operand, spans)),
        ExprKind::Binary(op, left, right) => {
            let symbol = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                BinOp::Pow => "**",
                BinOp::Mod => "%",
                BinOp::Eq => "==",
                BinOp::Ne => "!=",
                BinOp::Lt => "<",
                BinOp::Le => "<=",
                BinOp::Gt => ">",
                BinOp::Ge => ">=",
                BinOp::In => "in",
                BinOp::NotIn => "not-in",
                BinOp::And => "and",
                BinOp::Or => "or",
            };
            format!("({symbol}{at} {} {})", sexpr(left, spans), sexpr(right, spans))
        }
        ExprKind::Call(function, args) => {
            let args: String = args.iter().map(|arg| format!(" {}", sexpr(arg, spans))).collect();
            format!("({}{at}{args})", function.name)
        }
    }
}

/// A bare name prints as `name`; a call with parentheses as `(name arg key=value…)`.
fn call_sexpr(call: &Call, spans: bool) -> String {
    let at = if spans { format!("@{}..{}", call.span.start, call.span.end) } else { String::new() };
    if call.span == call.callee.span {
        return format!("{}{at}", call.callee.name);
    }
    let args: String = call
        .args
        .iter()
        .map(|arg| match &arg.name {
            Some(name) if spans => {
                format!(" {}@{}..{}={}", name.name, name.span.start, name.span.end, sexpr(&arg.value, spans))
            }
            Some(name) => format!(" {}={}", name.name, sexpr(&arg.value, spans)),
            None => format!(" {}", sexpr(&arg.value, spans)),
        })
        .collect();
    format!("({}{at}{args})", call.callee.name)
}

fn check_expr(input: &str, expected: &str, spans: bool) {
    match parse_expr(input) {
        Ok(expr) => assert_eq!(sexpr(&expr, spans), expected, "parse_expr({input:?})"),
        Err(error) => panic!("parse_expr({input:?}) failed: {error:?}"),
    }
}

fn check_call(input: &str, expected: &str, spans: bool) {
    match parse_call(input) {
        Ok(call) => assert_eq!(call_sexpr(&call, spans), expected, "parse_call({input:?})"),
        Err(error) => panic!("parse_call({input:?}) failed: {error:?}"),
    }
}

/// The variables every evaluation test sees; `e` is shadowed to show that lookup wins.
fn test_lookup(name: &str) -> Option<Value> {
    let number = |value: f64| Some(Value::Number(value));
    match name {
        "x" => number(2.0),
        "d_model" => number(512.0),
        "fan_in" => number(256.0),
        "n_layer" => number(12.0),
        "e" => number(3.0),
        "big" => number(1e308),
        "bad" => number(f64::NAN),
        "nothing" => Some(Value::Null),
        "act" => Some(Value::Str("gated-gelu".into())),
        "layers" => Some(Value::List(vec![Value::Number(0.0), Value::Number(3.0)].into())),
        _ => None,
    }
}

fn evaluate(input: &str) -> Result<f64, DslError> {
    let expr = parse_expr(input).unwrap_or_else(|error| panic!("parse_expr({input:?}) failed: {error:?}"));
    eval(&expr, &test_lookup)
}

fn check_eval(input: &str, expected: f64) {
    match evaluate(input) {
        Ok(value) => assert_eq!(value.to_bits(), expected.to_bits(), "eval({input:?}) = {value}, want {expected}"),
        Err(error) => panic!("eval({input:?}) failed: {error:?}"),
    }
}

/// Which API an error case goes through.
#[derive(Clone, Copy, Debug)]
enum Api {
    Expr,
    Call,
    Eval,
}

fn check_error(api: Api, input: &str, code: Code, message: &str, span: std::ops::Range<usize>, help: Option<&str>) {
    let result = match api {
        Api::Expr => parse_expr(input).map(|expr| sexpr(&expr, false)),
        Api::Call => parse_call(input).map(|call| call_sexpr(&call, false)),
        Api::Eval => evaluate(input).map(|value| value.to_string()),
    };
    let expected = DslError { code, message: message.to_string(), span, help: help.map(str::to_string) };
    assert_eq!(result, Err(expected), "{api:?} {input:?}");
}

#[test]
fn parses_expressions() {
    let cases = [
        ("1", "1"),
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("2.", "2"),
        ("1e-3", "0.001"),
        ("1E3", "1000"),
        ("1.5e+2", "150"),
        ("1.e1", "10"),
        ("1e-400", "0"),
        ("x", "x"),
        ("_a1", "_a1"),
        ("None", "None"),
        ("null", "null"),
        ("true", "true"),
        ("'fan_in'", "\"fan_in\""),
        ("\"a 'b'\"", "\"a 'b'\""),
        ("''", "\"\""),
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("8 / 4 / 2", "(/ (/ 8 4) 2)"),
        ("1 * 2 / 3 * 4", "(* (/ (* 1 2) 3) 4)"),
        ("-2**2", "(neg (** 2 2))"),
        ("2**-1", "(** 2 (neg 1))"),
        ("2**3**2", "(** 2 (** 3 2))"),
        ("(-2)**2", "(** (neg 2) 2)"),
        ("-2 * 3", "(* (neg 2) 3)"),
        ("2 * -3", "(* 2 (neg 3))"),
        ("+x", "x"),
        ("--x", "(neg (neg x))"),
        ("-+-x", "(neg (neg x))"),
        ("2 ** 3 * 4", "(* (** 2 3) 4)"),
        ("sqrt(x)", "(sqrt x)"),
        ("max(a, b, c,)", "(max a b c)"),
        ("f()", "(f)"),
        ("0.02 / sqrt(2 * n_layer)", "(/ 0.02 (sqrt (* 2 n_layer)))"),
        ("min(1, max(2, 3)) ** 2", "(** (min 1 (max 2 3)) 2)"),
        (" \t1\n+\r2 ", "(+ 1 2)"),
        ("a*b-c/d", "(- (* a b) (/ c d))"),
        ("f (1)", "(f 1)"),
    ];
    for (input, expected) in cases {
        check_expr(input, expected, false);
    }
    let deepest = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    check_expr(&deepest, "1", false);
}

#[test]
fn expression_spans_cover_their_text() {
    let cases = [
        ("-2**2", "(neg@0..5 (**@1..5 2@1..2 2@4..5))"),
        ("(1 + 2) * x", "(*@0..11 (+@0..7 1@1..2 2@5..6) x@10..11)"),
        ("  sqrt( x ) ", "(sqrt@2..11 x@8..9)"),
        ("+ 'a'", "\"a\"@0..5"),
        ("f(1,)", "(f@0..5 1@2..3)"),
    ];
    for (input, expected) in cases {
        check_expr(input, expected, true);
    }
}

#[test]
fn parses_initializer_calls() {
    let cases = [
        ("he_uniform", "he_uniform"),
        ("HeUniform", "HeUniform"),
        ("  he_uniform \n", "he_uniform"),
        ("f()", "(f)"),
        ("random_normal(0.0, 0.05)", "(random_normal 0 0.05)"),
        (
            "variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)",
            "(variance_scaling scale=2 mode=fan_in distribution=truncated_normal)",
        ),
        ("constant(0.4)", "(constant 0.4)"),
        ("orthogonal(gain=1.0)", "(orthogonal gain=1)"),
        ("random_normal(0.0, stddev=0.05)", "(random_normal 0 stddev=0.05)"),
        ("f(1, 2,)", "(f 1 2)"),
        ("f( a = 1 )", "(f a=1)"),
        ("f(mode='fan_in')", "(f mode=\"fan_in\")"),
        ("f(-1, 2 * x, sqrt(d))", "(f (neg 1) (* 2 x) (sqrt d))"),
        ("f(x)", "(f x)"),
    ];
    for (input, expected) in cases {
        check_call(input, expected, false);
    }
    check_call("  f( 1 , k=x ) ", "(f@2..14 1@5..6 k@9..10=x@11..12)", true);
    check_call(" he ", "he@1..3", true);
}

#[test]
fn evaluates_expressions() {
    let cases = [
        ("1", 1.0),
        (".5", 0.5),
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),
        ("2 / 4 / 2", 0.25),
        ("-2**2", -4.0),
        ("2**-1", 0.5),
        ("2**3**2", 512.0),
        ("(-2)**2", 4.0),
        ("--1", 1.0),
        ("-+-1", 1.0),
        ("4 * d_model", 2048.0),
        ("sqrt(1 / fan_in)", 0.0625),
        ("0.02 / sqrt(2 * n_layer)", 0.004082482904638631),
        ("pi", std::f64::consts::PI),
        ("e", 3.0),
        ("exp(0)", 1.0),
        // libm's exp, one ulp above the correctly rounded 2.718281828459045; the same everywhere.
        ("exp(1)", 2.7182818284590455),
        ("log(1)", 0.0),
        ("log(10)", std::f64::consts::LN_10),
        ("abs(-3)", 3.0),
        ("abs(x)", 2.0),
        ("floor(-1.5)", -2.0),
        ("ceil(1.2)", 2.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3)", 3.0),
        ("max(1, x, -5,)", 2.0),
        ("pow(2, 10)", 1024.0),
        ("2 ** 0.5", std::f64::consts::SQRT_2),
        ("sqrt(2)", std::f64::consts::SQRT_2),
        ("1e-400", 0.0),
        ("big", 1e308),
    ];
    for (input, expected) in cases {
        check_eval(input, expected);
    }
}

/// Which API, input, expected code, message, span and help.
type ErrorCase<'a> = (Api, &'a str, Code, &'a str, std::ops::Range<usize>, Option<&'a str>);

#[test]
fn reports_errors() {
    use Api::{Call, Eval, Expr};
    use Code::{ExprSyntax, NonFinite, UnknownName, WrongArity};
    let nesting = "expression nests deeper than 256 levels";
    let nesting_help = Some("split the expression into simpler parts");
    let unclosed = Some("add a `)` to close it");
    let unmatched = Some("there is no matching `(`");
    let cases: &[ErrorCase] = &[
        // Expressions that do not parse.
        (Expr, "", ExprSyntax, "expected an expression, found end of input", 0..0, None),
        (Expr, "   ", ExprSyntax, "expected an expression, found end of input", 3..3, None),
        (Expr, "1 +", ExprSyntax, "expected an expression after `+`, found end of input", 3..3, None),
        (Expr, "2 * )", ExprSyntax, "expected an expression after `*`, found `)`", 4..5, None),
        (Expr, "1 * * 2", ExprSyntax, "expected an expression after `*`, found `*`", 4..5, None),
        (Expr, "4 / ,", ExprSyntax, "expected an expression after `/`, found `,`", 4..5, None),
        (Expr, "1 - =", ExprSyntax, "expected an expression after `-`, found `=`", 4..5, None),
        (Expr, "2 ** ", ExprSyntax, "expected an expression after `**`, found end of input", 5..5, None),
        (Expr, "- ", ExprSyntax, "expected an expression after `-`, found end of input", 2..2, None),
        (Expr, "+", ExprSyntax, "expected an expression after `+`, found end of input", 1..1, None),
        (Expr, "**2", ExprSyntax, "expected an expression, found `**`", 0..2, None),
        (Expr, "()", ExprSyntax, "expected an expression after `(`, found `)`", 1..2, None),
        (Expr, "(1", ExprSyntax, "unclosed `(`", 0..1, unclosed),
        (Expr, "((1)", ExprSyntax, "unclosed `(`", 0..1, unclosed),
        (Expr, "1)", ExprSyntax, "unexpected `)`", 1..2, unmatched),
        (Expr, ")", ExprSyntax, "expected an expression, found `)`", 0..1, None),
        (Expr, "(1 2)", ExprSyntax, "expected `)` or an operator, found `2`", 3..4, None),
        (Expr, "1 2", ExprSyntax, "expected an operator or end of input, found `2`", 2..3, None),
        (Expr, "1 = 2", ExprSyntax, "expected an operator or end of input, found `=`", 2..3, None),
        (Expr, "x y", ExprSyntax, "expected an operator or end of input, found `y`", 2..3, None),
        (Expr, "(1) (2)", ExprSyntax, "expected an operator or end of input, found `(`", 4..5, None),
        (Expr, "2x", ExprSyntax, "malformed number `2x`", 0..2, None),
        (Expr, "1 + 1e", ExprSyntax, "malformed number `1e`", 4..6, None),
        (Expr, "1e+", ExprSyntax, "malformed number `1e`", 0..2, None),
        (Expr, "1.2.3", ExprSyntax, "malformed number `1.2.3`", 0..5, None),
        (
            Expr,
            "1e999",
            ExprSyntax,
            "number `1e999` is too large for a 64-bit float (the largest is about 1.8e308)",
            0..5,
            None,
        ),
        (Expr, "'abc", ExprSyntax, "unclosed string: no closing `'`", 0..1, Some("end the string with `'`")),
        (Expr, "1 + \"", ExprSyntax, "unclosed string: no closing `\"`", 4..5, Some("end the string with `\"`")),
        (Expr, "'a\"", ExprSyntax, "unclosed string: no closing `'`", 0..1, Some("end the string with `'`")),
        (Expr, "é", ExprSyntax, "unexpected character `é`", 0..2, None),
        (Expr, "1 ^ 2", ExprSyntax, "unexpected character `^`", 2..3, None),
        (Expr, ".", ExprSyntax, "unexpected character `.`", 0..1, None),
        (Expr, "\u{0}", ExprSyntax, "unexpected character `\\0`", 0..1, None),
        (Expr, "1\u{a0}", ExprSyntax, "unexpected character `\\u{a0}`", 1..3, None),
        (Expr, "sqrt(1", ExprSyntax, "unclosed `(`", 4..5, unclosed),
        (Expr, "sqrt(", ExprSyntax, "expected an expression after `(`, found end of input", 5..5, None),
        (Expr, "sqrt(1 2)", ExprSyntax, "expected `,` or `)`, found `2`", 7..8, None),
        (
            Expr,
            "sqrt(x=1)",
            ExprSyntax,
            "`sqrt` takes no keyword arguments",
            6..7,
            Some("keyword arguments (`name=value`) only go in initializer calls"),
        ),
        (Expr, "f(,)", ExprSyntax, "expected an expression after `(`, found `,`", 2..3, None),
        (Expr, "f(1,,)", ExprSyntax, "expected an expression after `,`, found `,`", 4..5, None),
        // Initializer calls that do not parse.
        (Call, "", ExprSyntax, "expected an initializer name, found end of input", 0..0, None),
        (Call, "1", ExprSyntax, "expected an initializer name, found `1`", 0..1, None),
        (Call, "'he'", ExprSyntax, "expected an initializer name, found `'he'`", 0..4, None),
        (Call, "he uniform", ExprSyntax, "expected `(` or end of input after `he`, found `uniform`", 3..10, None),
        (Call, "f + 1", ExprSyntax, "expected `(` or end of input after `f`, found `+`", 2..3, None),
        (Call, "f(1", ExprSyntax, "unclosed `(`", 1..2, unclosed),
        (Call, "f(", ExprSyntax, "expected an expression after `(`, found end of input", 2..2, None),
        (Call, "f(1))", ExprSyntax, "unexpected `)`", 4..5, unmatched),
        (Call, "f(1) x", ExprSyntax, "expected end of input after the initializer call, found `x`", 5..6, None),
        (Call, "f(a=)", ExprSyntax, "expected an expression after `=`, found `)`", 4..5, None),
        (Call, "f(=1)", ExprSyntax, "expected an expression after `(`, found `=`", 2..3, None),
        (Call, "f(1 2)", ExprSyntax, "expected `,` or `)`, found `2`", 4..5, None),
        (Call, "f(a=b=1)", ExprSyntax, "expected `,` or `)`, found `=`", 5..6, None),
        (Call, "f(x = = 1)", ExprSyntax, "expected an expression after `=`, found `=`", 6..7, None),
        (Call, "f(1,,)", ExprSyntax, "expected an expression after `,`, found `,`", 4..5, None),
        (
            Call,
            "f(scale=2, 1)",
            ExprSyntax,
            "positional argument after a keyword argument",
            11..12,
            Some("put positional arguments before keyword arguments, or name this one"),
        ),
        (Call, "f(é)", ExprSyntax, "unexpected character `é`", 2..4, None),
        // Evaluation.
        (Eval, "y", UnknownName, "unknown name `y`", 0..1, None),
        (Eval, "1 + mode", UnknownName, "unknown name `mode`", 4..8, None),
        (Eval, "sqr(2)", UnknownName, "unknown function `sqr`", 0..3, Some("did you mean `sqrt`?")),
        (
            Eval,
            "banana(2)",
            UnknownName,
            "unknown function `banana`",
            0..6,
            Some("the functions are sqrt, exp, log, abs, floor, ceil, min, max, pow, len, startswith, coalesce"),
        ),
        (Eval, "'fan_in' + 1", ExprSyntax, "expected a number, found a string", 0..8, None),
        (Eval, "sqrt(1, 2)", WrongArity, "`sqrt` takes 1 argument, found 2 arguments", 0..10, None),
        (Eval, "exp()", WrongArity, "`exp` takes 1 argument, found 0 arguments", 0..5, None),
        (Eval, "pow(2)", WrongArity, "`pow` takes 2 arguments, found 1 argument", 0..6, None),
        (Eval, "min()", WrongArity, "`min` takes at least 1 argument, found 0 arguments", 0..5, None),
        (Eval, "sqrt(-1)", NonFinite, "square root of a negative number (-1)", 0..8, None),
        (Eval, "1/0", NonFinite, "division by zero", 0..3, None),
        (Eval, "2 * (1 + 1/(x - 2))", NonFinite, "division by zero", 9..18, None),
        (Eval, "0/0", NonFinite, "division by zero", 0..3, None),
        (Eval, "log(0)", NonFinite, "logarithm of zero", 0..6, None),
        (Eval, "log(-2)", NonFinite, "logarithm of a negative number (-2)", 0..7, None),
        (Eval, "1e308 * 10", NonFinite, "this expression evaluates to infinity", 0..10, None),
        (Eval, "1 + -big * 10", NonFinite, "this expression evaluates to negative infinity", 4..13, None),
        (Eval, "0 ** -1", NonFinite, "this expression evaluates to infinity", 0..7, None),
        (Eval, "pow(0, -1)", NonFinite, "this expression evaluates to infinity", 0..10, None),
        (Eval, "(-8) ** (1/3)", NonFinite, "this expression evaluates to NaN", 0..13, None),
        (Eval, "exp(1000)", NonFinite, "this expression evaluates to infinity", 0..9, None),
        (Eval, "max(1, bad)", NonFinite, "this expression evaluates to NaN", 7..10, None),
        // Nesting: the error points at the token that opens level 257.
        (Expr, &format!("{}1", "(".repeat(257)), ExprSyntax, nesting, 256..257, nesting_help),
        (Expr, &format!("{}1{}", "(".repeat(257), ")".repeat(257)), ExprSyntax, nesting, 256..257, nesting_help),
        (Expr, &format!("{}1", "-".repeat(257)), ExprSyntax, nesting, 256..257, nesting_help),
        (Expr, &format!("{}2", "2**".repeat(257)), ExprSyntax, nesting, 769..771, nesting_help),
        (Expr, &format!("{}1", "1+".repeat(257)), ExprSyntax, nesting, 513..514, nesting_help),
        (Expr, &format!("{}1", "f(".repeat(257)), ExprSyntax, nesting, 513..514, nesting_help),
        (Expr, &format!("{}1{} ** 2", "(".repeat(256), ")".repeat(256)), ExprSyntax, nesting, 514..516, nesting_help),
        (Call, &format!("f({}1", "(".repeat(256)), ExprSyntax, nesting, 257..258, nesting_help),
    ];
    for (api, input, code, message, span, help) in cases {
        check_error(*api, input, *code, message, span.clone(), *help);
    }
}

/// 10,000-deep inputs are refused at level 257 without recursing further, even on a 256 KiB stack.
#[test]
fn deep_nesting_is_refused_on_a_small_stack() {
    let run = || {
        let deep_inputs = [
            format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("{}1", "-".repeat(10_000)),
            format!("{}2", "2**".repeat(10_000)),
            format!("{}1", "1+".repeat(10_000)),
            format!("{}1", "sqrt(".repeat(10_000)),
        ];
        for input in &deep_inputs {
            let expr_error = parse_expr(input).map(|_| ()).map_err(|error| error.message);
            let call_error = parse_call(&format!("f({input})")).map(|_| ()).map_err(|error| error.message);
            let nesting = Err("expression nests deeper than 256 levels".to_string());
            assert_eq!(expr_error, nesting, "parse_expr of {}", &input[..20]);
            assert_eq!(call_error, nesting, "parse_call of {}", &input[..20]);
        }
        // The deepest accepted expressions parse, evaluate and drop within the same stack.
        let deepest = [
            format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING)),
            format!("{}1", "-".repeat(MAX_NESTING)),
            format!("{}1", "1**".repeat(MAX_NESTING)),
            format!("{}1{}", "sqrt(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING)),
        ];
        for input in &deepest {
            let value = parse_expr(input).map(|expr| eval(&expr, &|_| None));
            assert_eq!(value, Ok(Ok(1.0)), "{}", &input[..20]);
        }
    };
    let outcome = std::thread::Builder::new().stack_size(256 * 1024).spawn(run).map(|thread| thread.join());
    assert!(matches!(outcome, Ok(Ok(()))), "the parser overflowed or failed on a 256 KiB stack");
}

/// A few hundred pseudo-random strings, weighted towards the grammar's characters, never panic.
#[test]
fn random_input_never_panics() {
    const ALPHABET: &[u8] = b"0123456789.eE+-*/()=,'\" \t\nabxfsqrt_\xc3\xa9\xff";
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for _ in 0..500 {
        let len = next() % 24;
        let bytes: Vec<u8> = (0..len)
            .map(|_| if next() % 8 == 0 { (next() % 256) as u8 } else { ALPHABET[next() % ALPHABET.len()] })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_call(&text);
        if let Ok(expr) = parse_expr(&text) {
            let _ = eval(&expr, &test_lookup);
        }
    }
}

/// A bounded call stops after its first argument too many, whatever follows (a syntax error, or
/// 200,000 more arguments); within the bound it reads as `parse_call`.
#[test]
fn a_bounded_call_stops_after_its_first_argument_too_many() {
    let three = |_: &str| 3;
    let cases = [
        ("f(1, 2, 3, 4, 5)", "(f 1 2 3 4)", 0..12),
        ("f(1, 2, 3, 4, +)", "(f 1 2 3 4)", 0..12),
        ("f(1, x=2, y=3, z=4, w=5)", "(f 1 x=2 y=3 z=4)", 0..18),
        ("f(1, 2, 3)", "(f 1 2 3)", 0..10),
        ("f(1, 2)", "(f 1 2)", 0..7),
        ("f", "f", 0..1),
    ];
    for (input, expected, span) in cases {
        let call = parse_call_bounded(input, &three).unwrap_or_else(|error| panic!("{input}: {error:?}"));
        assert_eq!((call_sexpr(&call, false).as_str(), call.span), (expected, span), "{input}");
    }
    // Within the bound, errors are found as before.
    let error = parse_call_bounded("f(x=1, 2)", &three).map(|_| ()).map_err(|error| error.message);
    assert_eq!(error, Err("positional argument after a keyword argument".to_string()));
    let error = parse_call_bounded("f(1, 2, +)", &three).map(|_| ()).map_err(|error| error.message);
    assert_eq!(error, Err("expected an expression after `+`, found `)`".to_string()));
    // A callee the caller accepts no arguments for stops at the first; 200,000 read otherwise.
    let wide = format!("f({})", vec!["1"; 200_000].join(", "));
    assert_eq!(parse_call_bounded(&wide, &|_| 0).map(|call| call.args.len()), Ok(1));
    assert_eq!(parse_call(&wide).map(|call| call.args.len()), Ok(200_000));
}

#[test]
fn comparisons_and_word_operators_bind_as_in_python() {
    let cases = [
        ("a or b and c", "(or a (and b c))"),
        ("not a and b", "(and (not a) b)"),
        ("not a == b", "(not (== a b))"),
        ("a + 1 < b * 2", "(< (+ a 1) (* b 2))"),
        ("-a >= b", "(>= (neg a) b)"),
        ("(i + 1) % 2 == 0", "(== (% (+ i 1) 2) 0)"),
        ("i not in xs", "(not-in i xs)"),
        ("i in xs or not x", "(or (in i xs) (not x))"),
        ("a != b", "(!= a b)"),
        ("a <= b", "(<= a b)"),
        ("a > b", "(> a b)"),
        ("f(a == b, c)", "(f (== a b) c)"),
        ("rope_scaling.factor * 2", "(* rope_scaling.factor 2)"),
    ];
    for (input, expected) in cases {
        check_expr(input, expected, false);
    }
}

#[test]
fn values_of_every_kind_evaluate_as_in_python() {
    let value = |input: &str| {
        let expr = parse_expr(input).unwrap_or_else(|error| panic!("parse_expr({input:?}) failed: {error:?}"));
        eval_value(&expr, &test_lookup).unwrap_or_else(|error| panic!("eval({input:?}) failed: {error:?}"))
    };
    let number = Value::Number;
    let cases = [
        ("x or 0.02", number(2.0)),
        ("0 or 0.02", number(0.02)),
        ("nothing or 0.02", number(0.02)),
        ("x and 5", number(5.0)),
        ("0 and nothing", number(0.0)),
        // The right operand is not evaluated once the left decides: no "no value" error.
        ("nothing != null and nothing > 1", number(0.0)),
        ("nothing == null", number(1.0)),
        ("nothing == None", number(1.0)),
        ("true + true", number(2.0)),
        ("not nothing", number(1.0)),
        ("not act", number(0.0)),
        ("-7 % 3", number(2.0)),
        ("7 % -3", number(-2.0)),
        ("3 in layers", number(1.0)),
        ("1 not in layers", number(1.0)),
        ("len(layers)", number(2.0)),
        ("coalesce(nothing, 0, 5)", number(0.0)),
        ("coalesce(nothing)", Value::Null),
        ("startswith(act, 'gated')", number(1.0)),
        ("act == 'gated-gelu'", number(1.0)),
        ("act", Value::Str("gated-gelu".into())),
        ("nothing", Value::Null),
        ("x < 3 and x >= 2", number(1.0)),
    ];
    for (input, expected) in cases {
        assert_eq!(value(input), expected, "{input}");
    }
}

#[test]
fn a_value_that_is_no_number_is_refused_where_a_number_is_needed() {
    let cases = [
        ("nothing + 1", "`nothing` has no value (it is null) and is used as a number here", 0..7),
        ("act * 2", "`act` is a string (\"gated-gelu\"), where a number is needed", 0..3),
        ("'a' * 2", "expected a number, found a string", 0..3),
        ("nothing", "`nothing` has no value (it is null) and is used as a number here", 0..7),
        ("1 in x", "`in` needs a list on its right, found a number", 5..6),
        ("len(x)", "`len` takes a list or a string, found a number", 4..5),
        ("1 % 0", "division by zero", 0..5),
        ("a not b", "expected `in` after `not`, found `b`", 6..7),
        ("x and", "expected an expression after `and`, found end of input", 5..5),
    ];
    for (input, message, span) in cases {
        let result = parse_expr(input).and_then(|expr| eval(&expr, &test_lookup));
        match result {
            Err(error) => assert_eq!((error.message.as_str(), error.span), (message, span), "{input}"),
            Ok(value) => panic!("{input} evaluated to {value}"),
        }
    }
}
