//! Read a Kayobe configuration repository the way Kayobe and Ansible read it.
//!
//! Everything else in kayobe-automation starts here: this crate parses the files
//! of a config repository once into typed values, and the feature crates render,
//! diff and report from those values. It depends on no other crate of ours.
//!
//! - [`repo`]: open `etc/kayobe`, select an environment and stack its layers
//!   (environment dependencies first, the selected environment last).
//! - [`yaml`]: YAML with Ansible's meaning (YAML 1.1 scalars as PyYAML reads them,
//!   `!vault` and `!unsafe` tags, anchors and merge keys), errors with file, line
//!   and column.
//! - [`inventory`]: INI inventories plus `group_vars`/`host_vars`, combined as
//!   Ansible combines them, rendered like `ansible-inventory --list`.
//! - [`vault`]: ansible-vault 1.1/1.2 encryption, decryption and rekeying of
//!   whole files and inline `!vault` values, and discovery of vaulted files.
//! - [`template`]: Ansible-style evaluation of Jinja expressions in variables.
//! - [`ansible_cfg`]: the `ansible.cfg` Kayobe and Ansible would read, and its
//!   settings that change inventory output.
//! - [`automation_conf`]: the variables `.automation.conf/config.sh` leaves
//!   set, sourced with bash as kayobe-automation's pipelines source it.
//! - [`vars_file`]: one vars file read as Ansible reads it (vaulted or not,
//!   JSON or YAML), shared by `repo` and `inventory`.
//! - [`locate`]: where a variable is written (file, line, column), for
//!   errors about values read from layered variables.
//! - [`variables`]: typed values out of variables with Ansible's coercions,
//!   every error located ([`VariableReader`]); every feature reads through it.
//! - [`operation`]: the catalogue of kayobe-automation's pipeline scripts
//!   (arguments, inputs, pull requests), used by rendering and by `run`.
//! - [`value`]: the value model all of the above produce.

pub mod ansible_cfg;
pub mod automation_conf;
pub mod inventory;
pub mod locate;
pub mod location;
pub mod operation;
pub mod repo;
pub mod template;
pub mod value;
pub mod variables;
pub mod vars_file;
pub mod vault;
pub mod yaml;

pub use location::Location;
pub use value::{Map, Value};
pub use variables::{VariableError, VariableReader};
