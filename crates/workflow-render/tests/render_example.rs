//! The example repository's writer configs, rendered: snapshots, and every
//! file through the platform's validators.

mod support;

use workflow_render::{Platform, Templates, render};

use support::{example_config, validate, write_all};

#[test]
fn github_multi_environment() {
    let config = example_config(Platform::Github);
    let rendered = render(&config, &Templates::embedded()).unwrap();
    for file in &rendered.files {
        println!("=== {}\n{}", file.path.display(), file.contents);
    }
    let (_dir, files) = write_all(&[rendered]);
    validate(Platform::Github, &files);
}
