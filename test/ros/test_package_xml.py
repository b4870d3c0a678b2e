"""package.xml keys resolve with rosdep for Humble and Jazzy; the rest is documented as pip.

Checked against pinned excerpts of rosdistro kept in test/ros/rosdep/ (python.yaml: the system
keys, verbatim entries; ros_packages.yaml: the ROS packages released in both distributions).
"""
import ast
from pathlib import Path
import re
import xml.etree.ElementTree as ET

import pytest
import yaml


ROOT = Path(__file__).resolve().parents[2]
ROSDEP = ROOT / 'test' / 'ros' / 'rosdep'
DEPEND_TAGS = ('depend', 'build_depend', 'buildtool_depend', 'exec_depend', 'test_depend',
               'build_export_depend', 'doc_depend')
# Ubuntu releases of the two distributions rosdep resolves for.
UBUNTU = {'humble': 'jammy', 'jazzy': 'noble'}
# setup.py requirement -> the rosdep key that provides it.
PIP_TO_KEY = {'numpy': 'python3-numpy', 'pillow': 'python3-pil', 'pyyaml': 'python3-yaml',
              'tqdm': 'python3-tqdm', 'opencv-python-headless': 'python3-opencv',
              'pytest': 'python3-pytest'}


def _package_keys() -> list[str]:
    root = ET.parse(ROOT / 'package.xml').getroot()
    return [e.text.strip() for tag in DEPEND_TAGS for e in root.findall(tag)]


def _rosdep_python() -> dict:
    return yaml.safe_load((ROSDEP / 'python.yaml').read_text(encoding='utf-8'))


def _ubuntu_packages(entry: dict, release: str) -> list | None:
    """What rosdep installs on Ubuntu `release` for one key (None: unresolvable)."""
    ubuntu = entry.get('ubuntu')
    if isinstance(ubuntu, dict) and ('pip' not in ubuntu):
        ubuntu = ubuntu.get(release, ubuntu.get('*'))
    if isinstance(ubuntu, dict) and 'pip' in ubuntu:
        return list(ubuntu['pip']['packages'])
    return list(ubuntu) if ubuntu else None


def _readme_robot_section() -> str:
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    match = re.search(r'^## Running on a robot\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    assert match, 'README needs a "Running on a robot" section'
    return match.group(1)


def _install_requires() -> list[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text(encoding='utf-8'))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, 'id', '') == 'setup')
    requires = next(k.value for k in call.keywords if k.arg == 'install_requires')
    return [re.split(r'[<>=!\[ ]', e.value)[0].lower() for e in requires.elts]


@pytest.mark.parametrize('distro', sorted(UBUNTU))
def test_every_package_xml_key_resolves(distro):
    python = _rosdep_python()
    ros = yaml.safe_load((ROSDEP / 'ros_packages.yaml').read_text(encoding='utf-8'))[distro]
    unresolved = []
    for key in _package_keys():
        if key in ros:
            continue
        if key in python and _ubuntu_packages(python[key], UBUNTU[distro]):
            continue
        unresolved.append(key)
    assert not unresolved, f'no rosdep key for {distro}: {unresolved}'


def test_no_gui_or_recording_tool_is_a_dependency():
    keys = set(_package_keys())
    assert not keys & {'rviz2', 'rosbag2', 'ros2bag', 'rqt'}, keys


def test_the_keys_the_issue_found_broken_are_gone():
    keys = set(_package_keys())
    assert not keys & {'python3-safetensors-pip', 'python3-torch', 'rclpy_lifecycle',
                       'ament_python'}


def test_pip_only_requirements_are_documented_in_the_readme():
    section = _readme_robot_section()
    documented = set(re.findall(r'pip install[^\n`]*', section))
    pip_words = {w.lower() for line in documented for w in re.findall(r'[\w.-]+', line)}
    keys = set(_package_keys())
    for requirement in _install_requires():
        key = PIP_TO_KEY.get(requirement)
        if key is not None:
            assert key in keys, f'{requirement} is provided by {key}, missing from package.xml'
        else:
            assert requirement in pip_words, f'{requirement}: no rosdep key and no pip line'


def test_pinned_excerpt_entries_are_rosdep_shaped():
    python = _rosdep_python()
    assert python, 'empty rosdep excerpt'
    for key, entry in python.items():
        assert key.startswith('python3-') and 'ubuntu' in entry and 'debian' in entry, key
