#!/usr/bin/env bash
# Isolated real-rclpy test environment (ROS 2 Jazzy wheels from PyPI, CPython 3.12).
#
#   bash test/ros/rclpy_env.sh            build (or reuse) the env, then run the smoke test
#   bash test/ros/rclpy_env.sh --check    exit 0 if the env is built and current, else 1
#   bash test/ros/rclpy_env.sh --smoke    in-process publish/subscribe round trip
#   bash test/ros/rclpy_env.sh --run ARGS run `python -m pytest ARGS` inside the env
#   bash test/ros/rclpy_env.sh --exec ARGS run `python ARGS` inside the env (same isolation)
#
# The wheels are unofficial and test-only: they live in their own virtualenv (default
# .venv-ros/, git-ignored; DEPTH_ROS_ROS_VENV overrides) and are never a dependency of the
# product. Everything is pinned with hashes in test/ros/requirements-rclpy.txt (about 3 GB, most
# of it the CUDA runtime torch's cp312 PyPI wheel needs; it runs on CPU).
# On top of the wheels the env gets, from ../shared/vendor (read-only there; built from copies):
#   - the real launch libraries (launch, launch_xml, launch_yaml, launch_testing, launch_ros,
#     launch_testing_ros; ros2-launch-jazzy, pip-installed without dependencies),
#   - tf2_msgs, tf2, tf2_py, tf2_ros (Python) and composition_interfaces, built from source by
#     ros2-tf2-jazzy/build_extra_msgs.sh (about a minute; needs cmake, g++, make).
# The env is current when its stamp matches the requirements, this script and the vendor trees.
#
# Isolation when running: DDS discovery is switched off (ROS_AUTOMATIC_DISCOVERY_RANGE=OFF), so
# only nodes inside one process talk and no packet is sent; where the kernel allows it the process
# also gets its own network namespace (unshare -n) with only the loopback interface, brought up so
# that multi-process tests may set ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST for their children.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${DEPTH_ROS_ROS_VENV:-$ROOT/.venv-ros}"
REQUIREMENTS="$ROOT/test/ros/requirements-rclpy.txt"
STAMP="$VENV/.depth_ros_requirements.sha256"
VENDOR="$ROOT/../shared/vendor"
LAUNCH_SRC="$VENDOR/ros2-launch-jazzy"
TF2_SRC="$VENDOR/ros2-tf2-jazzy"
LAUNCH_PACKAGES=(launch launch_xml launch_yaml launch_testing launch_ros launch_testing_ros)

find_python312() {
  local candidate
  for candidate in "${DEPTH_ROS_PYTHON312:-}" "$(command -v python3.12 || true)" \
      "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do
    if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" -c \
        'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo 'rclpy_env: no python3.12 found (set DEPTH_ROS_PYTHON312)' >&2
  return 1
}

tree_hash() {  # tree_hash DIR: content hash of every file under DIR (empty when DIR is missing)
  [[ -d "$1" ]] || return 0
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Bump when build() changes what ends up in the env (editing the rest of this script does not
# invalidate a built env).
BUILD_STEPS=2

requirements_hash() {
  { sha256sum "$REQUIREMENTS" | cut -d' ' -f1; echo "$BUILD_STEPS"
    tree_hash "$LAUNCH_SRC"; tree_hash "$TF2_SRC"; } | sha256sum | cut -d' ' -f1
}

is_current() {
  [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$(requirements_hash)" ]]
}

# Library path the wheels need (what their ros_wheels_bootstrapper.pth would set by re-executing
# the interpreter; setting it here, with the bootstrap flag, avoids that re-exec).
ros_environment() {
  local site libs
  site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
    2>/dev/null || true)"
  libs="$(find "$site" -maxdepth 1 -type d -name 'ros_*.libs' | sort | tr '\n' ':')"
  export LD_LIBRARY_PATH="${libs}$VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
  export AMENT_PREFIX_PATH="$VENV"
  export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
  export ROS_AUTOMATIC_DISCOVERY_RANGE=OFF
  export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$((RANDOM % 100 + 1))}"
  export ROS_LOG_DIR="${ROS_LOG_DIR:-$(mktemp -d)}"
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONDONTWRITEBYTECODE=1
}

in_env() {
  ros_environment
  # A namespace only with a loopback that can be brought up: the multi-process tests need it.
  if command -v ip >/dev/null && unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
    exec unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$VENV/bin/python" "$@"
  fi
  exec "$VENV/bin/python" "$@"
}

# The launch libraries, pip-installed from a scratch copy (pip builds in the source folder).
install_launch() {
  [[ -d "$LAUNCH_SRC" ]] || { echo "rclpy_env: $LAUNCH_SRC missing" >&2; return 1; }
  local scratch pkg
  scratch="$(mktemp -d)"
  for pkg in "${LAUNCH_PACKAGES[@]}"; do
    cp -a "$LAUNCH_SRC/$pkg" "$scratch/$pkg"
    chmod -R u+w "$scratch/$pkg"
    _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$VENV/bin/python" -m pip install --quiet \
      --disable-pip-version-check --no-deps --no-build-isolation --no-index "$scratch/$pkg"
  done
  rm -rf "$scratch"
}

# tf2_msgs, tf2, tf2_py, tf2_ros (Python), composition_interfaces, built from a scratch copy.
build_tf2() {
  [[ -d "$TF2_SRC" ]] || { echo "rclpy_env: $TF2_SRC missing" >&2; return 1; }
  local scratch
  scratch="$(mktemp -d)"
  cp -a "$TF2_SRC/." "$scratch/"
  chmod -R u+w "$scratch"
  JOBS="${JOBS:-2}" bash "$scratch/build_extra_msgs.sh" "$VENV" "$scratch/src"
  rm -rf "$scratch"
}

build() {
  if is_current; then
    echo "rclpy_env: $VENV is current"
    return 0
  fi
  local python
  python="$(find_python312)"
  if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && "$VENV/bin/python" -c \
      'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
    # Update in place (pip replaces changed pins; other runs may be using the env meanwhile).
    echo "rclpy_env: updating $VENV"
  else
    echo "rclpy_env: building $VENV with $python"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  # Bootstrap flag set so the wheels' .pth does not re-execute pip mid-install.
  _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$VENV/bin/python" -m pip install --quiet \
    --disable-pip-version-check --require-hashes --no-deps -r "$REQUIREMENTS"
  install_launch
  build_tf2
  requirements_hash > "$STAMP"
}

case "${1:-}" in
  --check) is_current ;;
  --smoke) in_env "$ROOT/test/ros/smoke_rclpy.py" ;;
  # launch_testing's pytest plugins use hook arguments pytest 9 removed: kept off here (launch
  # tests run through launch_testing's own runner, `python -m launch_testing.launch_test`).
  --run) shift; cd "$ROOT"
         in_env -m pytest -p no:cacheprovider -p no:launch_testing -p no:launch_ros "$@" ;;
  --exec) shift; cd "$ROOT"; in_env "$@" ;;
  '') build; bash "${BASH_SOURCE[0]}" --smoke ;;
  *) echo "usage: $0 [--check | --smoke | --run PYTEST_ARGS... | --exec PYTHON_ARGS...]" >&2
     exit 2 ;;
esac
