//! Tests of the output writer: write-through for FIFOs, devices and links,
//! modes kept, inputs refused, sets of files all or nothing.

use super::*;
use std::io::Read;
use std::process::Command;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o7777
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn a_new_file_gets_the_new_mode_and_a_replaced_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    write_output(&path, b"one", &OutputOptions::public()).unwrap();
    assert_eq!(
        (std::fs::read(&path).unwrap(), mode(&path)),
        (b"one".to_vec(), 0o644)
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_output(&path, b"two", &OutputOptions::private()).unwrap();
    assert_eq!(
        (std::fs::read(&path).unwrap(), mode(&path)),
        (b"two".to_vec(), 0o640)
    );
    write_output(&path, b"3", &OutputOptions::secret()).unwrap();
    assert_eq!(mode(&path), 0o600);
    write_output(&path, b"4", &OutputOptions::exactly(0o640)).unwrap();
    assert_eq!(mode(&path), 0o640);
    assert_eq!(entries(dir.path()), 1);
}

#[test]
fn a_link_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink("real", &link).unwrap();
    write_output(&link, b"new", &OutputOptions::public()).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&real).unwrap(), b"new");
    // A dangling link: its target is created.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink("made", &dangling).unwrap();
    write_output(&dangling, b"x", &OutputOptions::public()).unwrap();
    assert_eq!(std::fs::read(dir.path().join("made")).unwrap(), b"x");
}

#[test]
fn a_fifo_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            File::open(fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    write_output(&fifo, b"through", &OutputOptions::secret()).unwrap();
    assert_eq!(reader.join().unwrap(), "through");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn an_input_and_a_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::write(&input, "keep").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let options = OutputOptions::public().refusing_inputs([&input]);
    assert!(matches!(
        write_output(&link, b"x", &options),
        Err(OutputError::IsInput { .. })
    ));
    assert_eq!(std::fs::read(&input).unwrap(), b"keep");
    assert!(matches!(
        write_output(dir.path(), b"x", &OutputOptions::public()),
        Err(OutputError::Unsupported {
            kind: "directory",
            ..
        })
    ));
}

#[test]
fn an_uncommitted_file_leaves_the_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    std::fs::write(&path, "old").unwrap();
    let mut output = OutputFile::create(&path, &OutputOptions::public()).unwrap();
    output.reserve(100_000).unwrap();
    output.write_all(b"new").unwrap();
    drop(output);
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(entries(dir.path()), 1);
    // Reserved space is cut back to what was written.
    let mut output = OutputFile::create(&path, &OutputOptions::public()).unwrap();
    output.reserve(100_000).unwrap();
    output.write_all(b"new").unwrap();
    output.commit().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
}

#[test]
fn a_set_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("sub/b");
    std::fs::write(&a, "old a").unwrap();
    write_set(
        &[(&a, "new a"), (&b, "new b")],
        &OutputOptions::public().creating_parents(),
    )
    .unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"new a");
    assert_eq!(std::fs::read(&b).unwrap(), b"new b");
    assert_eq!(entries(dir.path()), 2);
    // A set naming a directory fails before any file changes.
    let failed = write_set(
        &[(&a, "newer a"), (&dir.path().to_path_buf(), "x")],
        &OutputOptions::public(),
    );
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&a).unwrap(), b"new a");
    // A FIFO in a set is refused at once, not waited on.
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let failed = write_set(&[(&a, "newer a"), (&fifo, "x")], &OutputOptions::public());
    assert!(matches!(
        failed,
        Err(OutputError::NotRegularInSet { kind: "FIFO", .. })
    ));
    assert_eq!(std::fs::read(&a).unwrap(), b"new a");
    std::fs::remove_file(&fifo).unwrap();
    assert_eq!(entries(dir.path()), 2);
}
