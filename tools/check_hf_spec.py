#!/usr/bin/env python3
"""Checks specs/hf.md's initialisation rules against the recordings of tools/record_hf.py (tests/hf/*/).

For every recorded case and tensor, `rule` says what specs/hf.md claims the initial values are:
a constant, or normal(0, sigma) with the padding row zeroed where the embedding has padding_idx. The
check then holds the recording to it, per seed:
  constant   every element equals the value exactly
  normal     not constant; |mean| <= 5 sigma / sqrt(n); |std - sigma'| <= 5 sigma / sqrt(2n), where sigma'
             is sigma scaled for the padding row's zeros; the zero rows are exactly the padding row (or none);
             and for n >= 1000 the extreme value is beyond 2.5 sigma (a plain normal, not one truncated at 2 sigma)
A tensor no rule matches is a failure too, so the rules cover every name transformers writes.
Needs only the standard library:
  python3 tools/check_hf_spec.py [CASE ...]
"""

import json
import math
import re
import sys
from pathlib import Path

HF_DIR = Path(__file__).resolve().parent.parent / "tests" / "hf"
GEMMA_FAMILY = {"gemma", "gemma2", "gemma3_text"}


def t5_rule(config, name):
    """T5PreTrainedModel._init_weights: every std is initializer_factor times a fan-based scale."""
    factor = config["initializer_factor"]
    d_model, d_kv, heads, d_ff = config["d_model"], config["d_kv"], config["num_heads"], config["d_ff"]
    table = [
        (r"layer_norm\.weight$", ("constant", factor)),
        (r"^shared\.weight$", ("normal", factor)),
        (r"^lm_head\.weight$", ("normal", factor)),
        (r"\.q\.weight$", ("normal", factor * (d_model * d_kv) ** -0.5)),
        (r"\.[kv]\.weight$", ("normal", factor * d_model**-0.5)),
        (r"\.o\.weight$", ("normal", factor * (heads * d_kv) ** -0.5)),
        (r"relative_attention_bias\.weight$", ("normal", factor * d_model**-0.5)),
        (r"\.wi(_0|_1)?\.weight$", ("normal", factor * d_model**-0.5)),
        (r"\.wo\.weight$", ("normal", factor * d_ff**-0.5)),
    ]
    return first_match(table, name)


def first_match(table, name):
    for pattern, result in table:
        if re.search(pattern, name):
            return result
    return None


def rule(config, name):
    """What specs/hf.md says tensor `name` of this config starts as: ("constant", v) or ("normal", sigma[, pad_row])."""
    model_type = config["model_type"]
    if model_type == "t5":
        return t5_rule(config, name)
    sigma = config["initializer_range"]
    pad = config.get("pad_token_id")
    norm_weight = 0.0 if model_type in GEMMA_FAMILY else 1.0
    if model_type == "gpt2":
        table = [
            (r"\.ln_(1|2|f)\.weight$", ("constant", 1.0)),
            (r"\.bias$", ("constant", 0.0)),
            # GPT2PreTrainedModel._init_weights: residual projections scaled by 1/sqrt(2 n_layer).
            (r"\.c_proj\.weight$", ("normal", sigma / math.sqrt(2 * config["n_layer"]))),
            (r"\.weight$", ("normal", sigma)),
        ]
        return first_match(table, name)
    table = [
        # LayerNorm and RMSNorm weights (bert's LayerNorm, gpt_neox's *_layernorm, q_norm/k_norm, model.norm).
        (r"(norm|LayerNorm)\.weight$", ("constant", norm_weight)),
        (r"\.bias$", ("constant", 0.0)),
        # nn.Embedding with padding_idx = pad_token_id: that row is zeroed (gpt_neox's embed_in has none).
        (r"(embed_tokens|word_embeddings)\.weight$", ("normal", sigma, pad)),
        (r"\.weight$", ("normal", sigma)),
    ]
    return first_match(table, name)


def check_normal(stats, shape, sigma, pad_row):
    problems = []
    n = stats["count"]
    row = n // shape[0]
    zero_rows = [pad_row] if pad_row is not None else []
    # The zeroed row lowers the population std by sqrt(1 - row/n).
    scaled = sigma * math.sqrt(1 - len(zero_rows) * row / n)
    if stats["constant"]:
        problems.append("constant")
    if abs(stats["mean"]) > 5 * sigma / math.sqrt(n):
        problems.append(f"mean {stats['mean']:.3g} vs 0 (sigma {sigma:.4g}, n {n})")
    if abs(stats["std"] - scaled) > 5 * sigma / math.sqrt(2 * n):
        problems.append(f"std {stats['std']:.5g} vs {scaled:.5g}")
    if stats.get("zero_rows", []) != zero_rows:
        problems.append(f"zero rows {stats.get('zero_rows')} vs {zero_rows}")
    if n >= 1000 and max(-stats["min"], stats["max"]) < 2.5 * sigma:
        problems.append(f"extreme {max(-stats['min'], stats['max']):.4g} looks truncated (sigma {sigma:.4g})")
    return problems


def check_case(directory):
    config = json.loads((directory / "config.json").read_text())
    expected = json.loads((directory / "expected.json").read_text())
    failures, checked = [], 0
    for tensor in expected["tensors"]:
        claim = rule(config, tensor["name"])
        if claim is None:
            failures.append(f"{tensor['name']}: no rule")
            continue
        for seed, stats in zip(expected["seeds"], tensor["stats"]):
            checked += 1
            if claim[0] == "constant":
                ok = stats["constant"] and stats["value"] == claim[1]
                problems = [] if ok else [f"not the constant {claim[1]}: {stats}"]
            else:
                pad_row = claim[2] if len(claim) > 2 else None
                problems = check_normal(stats, tensor["shape"], claim[1], pad_row)
            failures.extend(f"{tensor['name']} seed {seed}: {problem}" for problem in problems)
    return checked, failures


def main():
    only = set(sys.argv[1:])
    total, all_failures = 0, []
    for directory in sorted(path for path in HF_DIR.iterdir() if (path / "expected.json").exists()):
        if only and directory.name not in only:
            continue
        checked, failures = check_case(directory)
        total += checked
        all_failures.extend(f"{directory.name}: {failure}" for failure in failures)
        print(f"{directory.name}: {checked} tensor-seeds, {len(failures)} failures", file=sys.stderr)
    for failure in all_failures:
        print(failure)
    print(f"{total} tensor-seeds checked, {len(all_failures)} failures", file=sys.stderr)
    sys.exit(1 if all_failures else 0)


if __name__ == "__main__":
    main()
