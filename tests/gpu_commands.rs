//! The GPU commands on a machine without a usable GPU: one line, exit 0 (2 with --require-gpu),
//! never a panic. On a machine with a GPU these tests say so and check nothing further here
//! (the GPU paths are exercised by `aim-sim validate` itself and tests/kernels.rs).

mod common;

fn gpu_present() -> bool {
    match aim_sim::validate::gpu_status() {
        Ok(()) => {
            println!("a GPU is present: the no-GPU behaviour is not testable on this machine");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn without_a_gpu_each_command_says_so_in_one_line_and_exits_0() {
    if gpu_present() {
        return;
    }
    for cmd in ["validate", "measure", "calibrate"] {
        let out = common::run(&[cmd]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {stdout}");
        assert_eq!(stdout.trim_end().lines().count(), 1, "{cmd}: {stdout}");
        assert!(stdout.contains(&format!("aim-sim {cmd}:")), "{stdout}");
        assert!(stdout.contains("nothing to run"), "{stdout}");
    }
}

#[test]
fn require_gpu_turns_it_into_exit_2() {
    if gpu_present() {
        return;
    }
    for cmd in ["validate", "measure", "calibrate"] {
        let err = common::fails(&[cmd, "--require-gpu"]);
        assert!(err.contains("--require-gpu"), "{err}");
    }
}

#[test]
fn input_errors_come_before_the_gpu_check() {
    // A bad flag is exit 2 whether or not a GPU is present.
    let err = common::fails(&["validate", "--tokens", "0"]);
    assert!(err.contains("at least 1"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, aim_sim::presets::GPUS[0].1).unwrap();
    let err = common::fails(&["measure", "--calibrated-gpu", plain.to_str().unwrap()]);
    assert!(err.contains("no [efficiency] table"), "{err}");
}
