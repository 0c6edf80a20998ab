# Configuration of kayobe automation for this repository. The pipelines
# source it with KAYOBE_ENVIRONMENT set; kayobe-automation reads the same
# assignments without running bash.

# Tempest workers running at once.
export TEMPEST_CONCURRENCY=4

# The load list (in tempest/load-lists/) and skip list (in tempest/skip-lists/).
# `default` has no file: it runs every test.
export KAYOBE_AUTOMATION_TEMPEST_LOADLIST="${KAYOBE_AUTOMATION_TEMPEST_LOADLIST:-default}"

# tempest.sh reads it under `set -u` in every environment: none by default.
export KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES="${KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES:-}"

# The image Tempest runs in.
export KAYOBE_AUTOMATION_RALLY_IMAGE="${KAYOBE_AUTOMATION_RALLY_IMAGE:-ghcr.io/stackhpc/docker-rally}"
export KAYOBE_AUTOMATION_RALLY_TAG="${KAYOBE_AUTOMATION_RALLY_TAG:-latest}"
export KAYOBE_AUTOMATION_RALLY_FORCE_PULL=false

if [[ $KAYOBE_ENVIRONMENT == production ]]; then
  # Production runs only the canary, with as many workers as compute nodes.
  export TEMPEST_CONCURRENCY=8
  export KAYOBE_AUTOMATION_TEMPEST_LOADLIST=canary
  export KAYOBE_AUTOMATION_TEMPEST_SKIPLIST=production
  export KAYOBE_AUTOMATION_TEMPEST_CONF_OVERRIDES="${KAYOBE_AUTOMATION_CONFIG_PATH}/tempest/tempest-${KAYOBE_ENVIRONMENT}.overrides.conf"

  # Production keeps its alerting secrets apart from secrets.yml.
  KAYOBE_CONFIG_SECRET_PATHS_EXTRA=(
      "etc/kayobe/environments/$KAYOBE_ENVIRONMENT/monitoring-secrets.yml"
  )

  # Vaulted files beyond secrets.yml, kolla/passwords.yml and the Octavia
  # certificates, shown in config diffs as digests of their content:
  # production's Glance stores images in Ceph.
  KAYOBE_CONFIG_VAULTED_FILES_PATHS_EXTRA=(
      "etc/kayobe/environments/$KAYOBE_ENVIRONMENT/kolla/config/glance/ceph.client.glance.keyring"
  )
fi

if [[ $KAYOBE_ENVIRONMENT == staging ]]; then
  # Staging compute nodes are small VMs.
  export TEMPEST_CONCURRENCY=2
fi
