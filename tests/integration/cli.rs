//! The command line as users type it: forms, exit codes, and what a failed run leaves behind.

use crate::support::{initc, repo, text};
use std::fs;

#[test]
fn bare_form_and_compile_subcommand_write_the_same_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let examples = repo().join("examples");
    let bare = dir.path().join("bare.safetensors");
    let sub = dir.path().join("sub.safetensors");
    let first = initc(&examples, &["seed_model.yaml", "-o", bare.to_str().unwrap_or_default()]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = initc(&examples, &["compile", "seed_model.yaml", "--output", sub.to_str().unwrap_or_default()]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(fs::read(&bare).ok(), fs::read(&sub).ok());
    assert!(first.stdout.is_empty() && first.stderr.is_empty(), "a successful compile prints nothing");
}

#[test]
fn a_failed_run_leaves_an_existing_file_as_it_was() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("bad.yaml");
    fs::write(&config, "input: [4]\nlayers:\n  - dense: {units: 0}\n").expect("write config");
    let out = dir.path().join("weights.safetensors");
    fs::write(&out, b"previous contents").expect("write old output");
    let output = initc(dir.path(), &["bad.yaml", "-o", "weights.safetensors"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(fs::read(&out).ok().as_deref(), Some(&b"previous contents"[..]));
    let names: Vec<_> = fs::read_dir(dir.path()).expect("list").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary file may remain: {names:?}");
}

#[test]
fn a_successful_run_replaces_an_existing_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("weights.safetensors");
    fs::write(&out, b"previous contents").expect("write old output");
    let examples = repo().join("examples");
    let output = initc(&examples, &["seed_model.yaml", "-o", out.to_str().unwrap_or_default()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let bytes = fs::read(&out).expect("output");
    assert!(safetensors::SafeTensors::deserialize(&bytes).is_ok());
}

#[test]
fn exit_codes_and_messages_for_usage_and_io_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let examples = repo().join("examples");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["missing.yaml", "-o", "x.safetensors"], 2, "error[E0101]: cannot read `missing.yaml`"),
        (&["seed_model.yaml"], 2, "--output <FILE>"),
        (&["compile", "seed_model.yaml", "-o", "/nonexistent-dir/x.safetensors"], 2, "error[E0101]: cannot write"),
        (&["compile", "seed_model.yaml", "-o", "."], 2, "is a directory"),
        (&["summary", "d2l_mlp.yaml", "--input", "20,x"], 2, "`x` is not a positive size"),
        (&["summary", "d2l_mlp.yaml", "--input", "0"], 2, "`0` is not a positive size"),
        (&["summary", "d2l_mlp.yaml", "--seed", "-1"], 2, "unexpected argument '-1'"),
        (&["summary", "d2l_mlp.yaml", "--format", "xml"], 2, "invalid value 'xml'"),
        (&["frobnicate", "-o", "x.safetensors"], 2, "error[E0101]: cannot read `frobnicate`"),
        (&["--version"], 0, "initc 0.2.0"),
        (&["summary", "d2l_mlp.yaml"], 1, "error[E0501]: no input shape"),
        (&["summary", "d2l_mlp.yaml", "--input", "20"], 0, "Total params: 7,946"),
    ];
    for (args, code, needle) in cases {
        let output = initc(&examples, args);
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(*code), "initc {args:?}:\n{all}");
        assert!(all.contains(needle), "initc {args:?} should say {needle:?}:\n{all}");
        assert!(!all.contains("panicked"), "initc {args:?} panicked:\n{all}");
    }
    assert_eq!(fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(1), 0);
}

#[test]
fn binary_junk_and_wrong_encodings_are_diagnosed_without_panic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let inputs: &[(&str, &[u8], &str)] = &[
        ("latin1.yaml", b"name: caf\xe9\nlayers: []\n", "error[E0102]"),
        ("junk.yaml", &[0x00, 0xff, 0x13, 0x37, 0x80, 0x00], "error[E0102]"),
        ("empty.yaml", b"", "error[E0202]: expected a mapping at the top level, found an empty document"),
        ("nul.yaml", b"layers: [\x00]\n", "error[E0103]"),
        ("bom.yaml", b"\xef\xbb\xbfinput: [3]\nlayers: [flatten]\n", ""),
    ];
    for (name, bytes, needle) in inputs {
        fs::write(dir.path().join(name), bytes).expect("write");
        let output = initc(dir.path(), &["summary", name]);
        let stderr = text(&output.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        if needle.is_empty() {
            assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        } else {
            assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
            assert!(stderr.contains(needle), "{name} should say {needle:?}:\n{stderr}");
        }
    }
}

#[test]
fn yaml_bombs_and_deep_nesting_end_in_a_diagnostic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("layers: [flatten]\n");
    let deep = format!("layers: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_block = (0..2_000).map(|i| format!("{}- \n", "  ".repeat(i))).collect::<String>();
    for (name, content) in [("bomb.yaml", bomb), ("deep.yaml", deep), ("deep_block.yaml", deep_block)] {
        fs::write(dir.path().join(name), content).expect("write");
        let output = initc(dir.path(), &["summary", name]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains("error[E01"), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn from_file_copies_tensors_relative_to_the_config_and_checks_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let models = dir.path().join("models");
    fs::create_dir(&models).expect("models dir");
    fs::write(models.join("base.yaml"), "input: [6]\nlayers:\n  - dense: {units: 4}\n  - dense: {units: 3}\n")
        .expect("write base");
    let base = initc(&models, &["base.yaml", "-o", "base.safetensors"]);
    assert_eq!(base.status.code(), Some(0), "{}", text(&base.stderr));
    let warm = "input: [6]\nlayers:\n  - dense: {units: 4, kernel_initializer: \"from_file(path='base.safetensors', tensor='dense.kernel')\"}\n  - dense: {units: 3, kernel_initializer: {from_file: {path: base.safetensors, tensor: dense_1.kernel}}, bias_initializer: ones}\n";
    fs::write(models.join("warm.yaml"), warm).expect("write warm");
    // Run from another directory: the path is relative to the config file.
    let output = initc(dir.path(), &["models/warm.yaml", "-o", "warm.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let base_bytes = fs::read(models.join("base.safetensors")).expect("base");
    let warm_bytes = fs::read(dir.path().join("warm.safetensors")).expect("warm");
    let base = safetensors::SafeTensors::deserialize(&base_bytes).expect("valid base");
    let warm = safetensors::SafeTensors::deserialize(&warm_bytes).expect("valid warm");
    for name in ["dense.kernel", "dense_1.kernel"] {
        assert_eq!(base.tensor(name).expect(name).data(), warm.tensor(name).expect(name).data(), "{name} copied");
    }
    assert!(warm.tensor("dense_1.bias").expect("bias").data().chunks(4).all(|b| b == 1f32.to_le_bytes()));

    let cases = [
        ("missing.safetensors", "dense.kernel", "cannot read `missing.safetensors`"),
        ("base.safetensors", "dense.kernal", "has no tensor `dense.kernal` (did you mean `dense.kernel`?)"),
        ("base.safetensors", "dense_1.kernel", "has shape [4, 3], this tensor needs [6, 4]"),
        ("warm.yaml", "x", "`warm.yaml` is not a safetensors file"),
    ];
    for (path, tensor, needle) in cases {
        let config = format!(
            "input: [6]\nlayers:\n  - dense: {{units: 4, kernel_initializer: \"from_file(path='{path}', tensor='{tensor}')\"}}\n"
        );
        fs::write(models.join("bad.yaml"), config).expect("write bad");
        let output = initc(&models, &["bad.yaml", "-o", "bad.safetensors"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("error[E0406]") && stderr.contains(needle), "should say {needle:?}:\n{stderr}");
        assert!(stderr.contains("= help: "), "every message has a help line:\n{stderr}");
        assert!(!models.join("bad.safetensors").exists());
    }
}

#[test]
fn torch_layout_holds_the_keras_weights_rearranged() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "input: [6, 5]\nlayers:\n  - lstm: {units: 3, return_sequences: true, bias_initializer: random_normal}\n  - dense: {units: 4}\n";
    fs::write(dir.path().join("m.yaml"), config).expect("write");
    for layout in ["keras", "torch"] {
        let output = initc(dir.path(), &["m.yaml", "-o", &format!("{layout}.safetensors"), "--layout", layout]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let keras_bytes = fs::read(dir.path().join("keras.safetensors")).expect("keras");
    let torch_bytes = fs::read(dir.path().join("torch.safetensors")).expect("torch");
    let keras = safetensors::SafeTensors::deserialize(&keras_bytes).expect("valid");
    let torch = safetensors::SafeTensors::deserialize(&torch_bytes).expect("valid");
    let values = |tensors: &safetensors::SafeTensors, name: &str| -> Vec<f32> {
        let view = tensors.tensor(name).unwrap_or_else(|_| panic!("{name}"));
        view.data().chunks(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    };
    let kernel = values(&keras, "dense.kernel"); // (3, 4)
    let weight = values(&torch, "dense.weight"); // (4, 3)
    for row in 0..3 {
        for col in 0..4 {
            assert_eq!(kernel[row * 4 + col], weight[col * 3 + row]);
        }
    }
    assert_eq!(values(&keras, "lstm.lstm_cell.bias"), values(&torch, "lstm.bias_ih_l0"));
    assert!(values(&torch, "lstm.bias_hh_l0").iter().all(|&v| v == 0.0));
    assert_eq!(torch.tensor("lstm.weight_ih_l0").expect("weight_ih").shape(), &[12, 5]);
}

#[cfg(unix)]
#[test]
fn written_weights_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let examples = repo().join("examples");
    let out = dir.path().join("w.safetensors");
    let output = initc(&examples, &["seed_model.yaml", "-o", out.to_str().unwrap_or_default()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mode = fs::metadata(&out).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "a temporary file's 0600 must not survive the rename");
}

#[test]
fn compile_refuses_an_output_larger_than_max_size_before_writing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let examples = repo().join("examples");
    let out = dir.path().join("w.safetensors");
    let out_arg = out.to_str().unwrap_or_default();
    let refused = initc(&examples, &["seed_model.yaml", "-o", out_arg, "--max-size", "100kB"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("error[E0602]"), "{}", text(&refused.stderr));
    assert!(!out.exists());
    let fits = initc(&examples, &["seed_model.yaml", "-o", out_arg, "--max-size", "1MB"]);
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits.stderr));
    let bad = initc(&examples, &["seed_model.yaml", "-o", out_arg, "--max-size", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn an_output_that_is_an_input_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "input: [6]\nlayers:\n  - dense: {units: 4}\n";
    fs::write(dir.path().join("m.yaml"), config).expect("write config");
    fs::hard_link(dir.path().join("m.yaml"), dir.path().join("hard.yaml")).expect("hard link");
    #[cfg(unix)]
    std::os::unix::fs::symlink("m.yaml", dir.path().join("soft.yaml")).expect("symlink");
    let base = initc(dir.path(), &["m.yaml", "-o", "base.safetensors"]);
    assert_eq!(base.status.code(), Some(0), "{}", text(&base.stderr));
    let warm = "input: [6]\nlayers:\n  - dense: {units: 4, kernel_initializer: \"from_file(path='base.safetensors', tensor='dense.kernel')\"}\n";
    fs::write(dir.path().join("warm.yaml"), warm).expect("write warm");
    // A one-shard checkpoint is `DIR/model.safetensors`: here that is the config itself.
    fs::create_dir(dir.path().join("ckpt")).expect("directory");
    fs::write(dir.path().join("ckpt/model.safetensors"), config).expect("write config");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["m.yaml", "-o", "m.yaml"], "m.yaml", "refusing to write to `m.yaml`: it is the config"),
        (&["m.yaml", "-o", "hard.yaml"], "m.yaml", "it is the config (`m.yaml`)"),
        (&["m.yaml", "-o", "soft.yaml"], "m.yaml", "it is the config (`m.yaml`)"),
        (&["warm.yaml", "-o", "base.safetensors"], "base.safetensors", "it is a file that `from_file` reads"),
        (
            &["ckpt/model.safetensors", "-o", "ckpt", "--max-shard-size", "5GB"],
            "ckpt/model.safetensors",
            "refusing to write to `ckpt/model.safetensors`: it is the config",
        ),
    ];
    for (args, kept, needle) in cases {
        let before = fs::read(dir.path().join(kept)).expect("read");
        let output = initc(dir.path(), args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?} should say {needle:?}:\n{stderr}");
        assert!(fs::read(dir.path().join(kept)).expect("read") == before, "{args:?}: {kept} is unchanged");
    }
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    names.sort();
    assert_eq!(names, ["base.safetensors", "ckpt", "hard.yaml", "m.yaml", "soft.yaml", "warm.yaml"]);
}

/// Runs `initc summary`, `compile` and `lint` on `config` in `dir`: each must end (killed
/// after two minutes otherwise) with exit 2 and say `needle` and the same `help`.
fn assert_config_refused(dir: &std::path::Path, config: &str, needle: &str, help: &str) {
    for args in [vec!["summary", config], vec!["compile", config, "-o", "w.safetensors"], vec!["lint", config]] {
        let child = crate::support::spawn_initc(dir, &[], &args);
        let (status, stderr) = crate::support::wait_or_kill(child);
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?} should say {needle:?}:\n{stderr}");
        assert!(stderr.contains(&format!("help: {help}")), "{args:?} should help with {help:?}:\n{stderr}");
        assert!(!dir.join("w.safetensors").exists());
    }
}

#[cfg(unix)]
#[test]
fn a_config_must_be_a_regular_file_of_at_most_64_mib() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A FIFO nobody writes used to wait forever; /dev/zero used to fill memory.
    let made = std::process::Command::new("mkfifo").arg(dir.path().join("fifo.yaml")).status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    assert_config_refused(
        dir.path(),
        "fifo.yaml",
        "cannot read `fifo.yaml`: it is a FIFO, not a regular file",
        "give the path of a YAML or Keras JSON file",
    );
    assert_config_refused(
        dir.path(),
        "/dev/zero",
        "cannot read `/dev/zero`: it is a character device",
        "give the path of a YAML or Keras JSON file",
    );
    fs::create_dir(dir.path().join("folder.yaml")).expect("directory");
    assert_config_refused(
        dir.path(),
        "folder.yaml",
        "it is a directory, not a regular file",
        "give the path of a YAML or Keras JSON file",
    );
    // Sparse: 64 MiB of NULs plus one byte, cheap to make.
    let big = fs::File::create(dir.path().join("big.yaml")).expect("create");
    big.set_len((64 << 20) + 1).expect("set length");
    assert_config_refused(
        dir.path(),
        "big.yaml",
        "it is larger than 64 MiB, the most initc reads as a config",
        "a config is text of at most 64 MiB: check the path",
    );
    // At exactly 64 MiB it is read (and is not YAML).
    big.set_len(64 << 20).expect("set length");
    let output = initc(dir.path(), &["summary", "big.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
}

#[cfg(unix)]
#[test]
fn rewriting_an_output_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join("m.yaml"), "input: [6]\nlayers:\n  - dense: {units: 4}\n").expect("write config");
    fs::write(dir.path().join("w.safetensors"), "old").expect("write");
    fs::set_permissions(dir.path().join("w.safetensors"), fs::Permissions::from_mode(0o600)).expect("chmod");
    let output = initc(dir.path(), &["m.yaml", "-o", "w.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mode = |path: &str| fs::metadata(dir.path().join(path)).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode("w.safetensors"), 0o600);
    assert!(fs::read(dir.path().join("w.safetensors")).expect("read").len() > 3, "rewritten");
    // A shard too; a new file is 0644.
    fs::create_dir(dir.path().join("out")).expect("directory");
    fs::write(dir.path().join("out/model.safetensors"), "old").expect("write");
    fs::set_permissions(dir.path().join("out/model.safetensors"), fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = initc(dir.path(), &["m.yaml", "-o", "out", "--max-shard-size", "5GB"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(mode("out/model.safetensors"), 0o640);
    let output = initc(dir.path(), &["m.yaml", "-o", "new.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // 0644 less the umask, which a file created here (0666 less the umask) shows.
    fs::write(dir.path().join("probe"), "").expect("write");
    assert_eq!(mode("new.safetensors"), 0o644 & mode("probe"));
}

#[cfg(unix)]
#[test]
fn outputs_that_are_not_files_get_clear_messages() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join("m.yaml"), "input: [6]\nlayers:\n  - dense: {units: 4}\n").expect("write config");
    fs::create_dir(dir.path().join("folder")).expect("directory");
    // A FIFO (like a device: /dev/null) would be replaced by a regular file by the rename.
    let made = std::process::Command::new("mkfifo").arg(dir.path().join("pipe")).status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    let cases: &[(&[&str], &str)] = &[
        (&["-o", "pipe"], "`pipe` is a FIFO, not a regular file"),
        (&["-o", "folder"], "`folder` is a directory"),
        (&["-o", "nothing/"], "`nothing/` names a directory, not a file"),
        (
            &["-o", "nothing/w.safetensors"],
            "cannot write `nothing/w.safetensors`: the directory `nothing` does not exist",
        ),
        (&["-o", "m.yaml/w.safetensors"], "`m.yaml` is a regular file, not a directory"),
        (&["-o", "m.yaml/", "--max-shard-size", "1MB"], "`m.yaml/` is a regular file, not a directory"),
        (&["-o", "pipe", "--max-shard-size", "1MB"], "`pipe` is a FIFO, not a directory"),
    ];
    for (args, needle) in cases {
        let mut all = vec!["m.yaml"];
        all.extend_from_slice(args);
        let output = initc(dir.path(), &all);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?} should say {needle:?}:\n{stderr}");
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::metadata(dir.path().join("pipe")).expect("pipe").file_type().is_fifo(), "the FIFO is still there");
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    names.sort();
    assert_eq!(names, ["folder", "m.yaml", "pipe"]);
}

/// Issue 10, defect 1: `verify --dtype` compares in that dtype (and torch's `I64` counter too).
#[test]
fn verify_compares_in_the_dtype_and_layout_given() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "input: [6, 5]\nlayers:\n  - lstm: {units: 3, return_sequences: true}\n  - batch_normalization\n  - dense: {units: 4}\n";
    fs::write(dir.path().join("m.yaml"), config).expect("write");
    for layout in ["keras", "torch"] {
        for dtype in ["f32", "f16", "bf16", "f64"] {
            let golden = format!("{layout}-{dtype}.safetensors");
            let options = ["--dtype", dtype, "--layout", layout];
            let compiled = initc(dir.path(), &[&["compile", "m.yaml", "-o", &golden][..], &options].concat());
            assert_eq!(compiled.status.code(), Some(0), "{}", text(&compiled.stderr));
            let verified = initc(dir.path(), &[&["verify", "m.yaml", "--golden", &golden][..], &options].concat());
            assert_eq!(
                verified.status.code(),
                Some(0),
                "verify --dtype {dtype} --layout {layout}:\n{}{}",
                text(&verified.stdout),
                text(&verified.stderr)
            );
        }
    }
    // Another dtype than the golden file's is a difference, not a pass.
    let mismatched = initc(dir.path(), &["verify", "m.yaml", "--golden", "keras-bf16.safetensors", "--dtype", "f16"]);
    assert_eq!(mismatched.status.code(), Some(1), "{}", text(&mismatched.stdout));
}

/// Issue 10, defect 2: a mistyped subcommand is named as such; a config file keeps the bare form,
/// and one named like a subcommand is compiled with `compile NAME` or `./NAME`.
#[test]
fn a_mistyped_subcommand_is_not_read_as_a_config() {
    let examples = repo().join("examples");
    let cases: &[(&[&str], &str)] = &[
        (&["sumary", "mnist_cnn.yaml"], "error[E0601]: unknown subcommand `sumary` — did you mean `summary`?"),
        (&["complie", "mnist_cnn.yaml", "-o", "x.safetensors"], "did you mean `compile`?"),
        (&["lnit", "mnist_cnn.yaml"], "did you mean `lint`?"),
    ];
    for (args, needle) in cases {
        let output = initc(&examples, args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "initc {args:?}:\n{stderr}");
        assert!(stderr.contains(needle), "initc {args:?} should say {needle:?}:\n{stderr}");
        assert!(stderr.contains("= help: the subcommands are `compile`"), "{stderr}");
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join("summary"), "input: [3]\nlayers: [{dense: {units: 2}}]\n").expect("write");
    fs::write(dir.path().join("sumary"), "input: [3]\nlayers: [{dense: {units: 2}}]\n").expect("write");
    for args in [
        &["compile", "summary", "-o", "a.safetensors"][..],
        &["./summary", "-o", "b.safetensors"],
        // A file that exists is a config, even when its name is a near miss of a subcommand.
        &["sumary", "-o", "c.safetensors"],
    ] {
        let output = initc(dir.path(), args);
        assert_eq!(output.status.code(), Some(0), "initc {args:?}: {}", text(&output.stderr));
    }
    assert_eq!(fs::read(dir.path().join("a.safetensors")).ok(), fs::read(dir.path().join("b.safetensors")).ok());
    let help = initc(dir.path(), &["--help"]);
    assert!(text(&help.stdout).contains("`initc compile summary -o weights.safetensors`"), "{}", text(&help.stdout));
}

/// Issue 10, defect 3: `--max-size` and `--max-shard-size` read the same sizes.
#[test]
fn every_size_option_reads_the_same_sizes() {
    let examples = repo().join("examples");
    let dir = tempfile::tempdir().expect("temporary directory");
    for size in ["1G", "200M", "200MB", "5GB", "1.5 GB", "2GiB", "1000k", "64Mi", "123456789"] {
        let out = dir.path().join(format!("shards-{}", size.replace(' ', "_")));
        let output = initc(
            &examples,
            &["seed_model.yaml", "-o", out.to_str().unwrap_or_default(), "--max-shard-size", size, "--max-size", size],
        );
        assert_eq!(output.status.code(), Some(0), "size {size}: {}", text(&output.stderr));
        let lint = initc(&examples, &["lint", "--quiet", "seed_model.yaml", "--max-size", size]);
        assert_eq!(lint.status.code(), Some(0), "size {size}: {}", text(&lint.stdout));
    }
    for bad in ["lots", "1e3", "5 XB", "-1G"] {
        let shard = initc(&examples, &["seed_model.yaml", "-o", "x/", "--max-shard-size", bad]);
        assert_eq!(shard.status.code(), Some(2), "{bad}");
        let max = initc(&examples, &["seed_model.yaml", "-o", "x.safetensors", "--max-size", bad]);
        assert_eq!(max.status.code(), Some(2), "{bad}");
        // `-1G` is read by the argument parser as an unknown flag, before any size grammar.
        if !bad.starts_with('-') {
            assert!(text(&max.stderr).contains("powers of 1024"), "{}", text(&max.stderr));
        }
    }
    let help = text(&initc(&examples, &["compile", "--help"]).stdout);
    assert!(help.contains("`2GiB` (2^31 bytes)") && !help.contains("2^30"), "{help}");
}

/// The budget counts every file a sharded run writes, header included, exactly: a run that fits
/// to the byte passes, one byte less is refused before anything is written.
#[test]
fn max_size_counts_every_shard_exactly() {
    let examples = repo().join("examples");
    let dir = tempfile::tempdir().expect("temporary directory");
    let full = dir.path().join("full");
    let output =
        initc(&examples, &["seed_model.yaml", "-o", full.to_str().unwrap_or_default(), "--max-shard-size", "40k"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let written: u64 = fs::read_dir(&full)
        .expect("shards")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".safetensors"))
        .map(|entry| entry.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(fs::read_dir(&full).map(|d| d.count()).unwrap_or(0) > 2, "several shards");
    let exact = written.to_string();
    let short = (written - 1).to_string();
    let fits = dir.path().join("fits");
    let refused = dir.path().join("refused");
    let ok = initc(
        &examples,
        &["seed_model.yaml", "-o", fits.to_str().unwrap_or_default(), "--max-shard-size", "40k", "--max-size", &exact],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let over = initc(
        &examples,
        &[
            "seed_model.yaml",
            "-o",
            refused.to_str().unwrap_or_default(),
            "--max-shard-size",
            "40k",
            "--max-size",
            &short,
        ],
    );
    assert_eq!(over.status.code(), Some(1), "{}", text(&over.stderr));
    assert!(text(&over.stderr).contains("error[E0602]"), "{}", text(&over.stderr));
    assert!(!refused.exists());
}

/// Issue 11, item 12b: a header over the 100 MB the safetensors crate reads is refused before
/// anything is generated, by `compile` and by `lint`; shards with smaller headers are fine.
#[test]
fn a_header_readers_would_refuse_is_an_error_before_writing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let name = "n".repeat(990);
    let config = format!(
        "input: [1]\nlayers:\n  - block:\n      name: \"{name}{{i}}\"\n      repeat: 49999\n      layers:\n        - param: {{name: w, shape: [1], initializer: zeros}}\n"
    );
    fs::write(dir.path().join("long_names.yaml"), config).expect("write");
    let compile = initc(dir.path(), &["long_names.yaml", "-o", "w.safetensors"]);
    let stderr = text(&compile.stderr);
    assert_eq!(compile.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0602]: the safetensors header would take"), "{stderr}");
    assert!(stderr.contains("more than the 100,000,000 bytes (95.37 MiB) safetensors readers accept"), "{stderr}");
    assert!(stderr.contains("--> long_names.yaml:"), "{stderr}");
    assert!(stderr.contains("= help: shorten the tensor names"), "{stderr}");
    assert_eq!(fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 1, "nothing written");
    let lint = initc(dir.path(), &["lint", "long_names.yaml", "--max-size", "1TB"]);
    assert_eq!(lint.status.code(), Some(1), "{}", text(&lint.stdout));
    assert!(text(&lint.stdout).contains("error[E0602]: the safetensors header would take"), "{}", text(&lint.stdout));
    // Two shards of about 52 MB of header each are readable.
    let sharded = initc(dir.path(), &["long_names.yaml", "-o", "shards", "--max-shard-size", "100000", "--quiet"]);
    assert_eq!(sharded.status.code(), Some(0), "{}", text(&sharded.stderr));
}

/// Issue 10, defect 9: the help says a config may be Keras JSON, and what verify's tolerances
/// are relative to.
#[test]
fn help_names_both_config_formats_and_the_verify_reference() {
    for command in ["compile", "summary", "verify", "lint"] {
        let help = text(&initc(&repo(), &[command, "--help"]).stdout);
        assert!(help.contains("Keras") && !help.contains("(YAML)."), "{command} --help:\n{help}");
    }
    let verify = text(&initc(&repo(), &["verify", "--help"]).stdout);
    assert!(verify.contains("fraction of the golden file's value") && !verify.contains("second file"), "{verify}");
}
