"""Packaging: package.xml, setup.py data files, README commands and .ci/run agree."""
import ast
from pathlib import Path
import re
import xml.etree.ElementTree as ET


ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    block = re.search(r'```bash\n(.*?)```', text, re.S)
    assert block, 'README must open with a bash block of two commands'
    assert text.index('```bash') < 40, 'the two commands must open the README'
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    cmds = readme_commands()
    assert len(cmds) == 2
    assert all(c.startswith('python3 -m venv .venv && .venv/bin/pip install') for c in cmds)
    assert 'depth-ros demo' in cmds[0] and 'pytest' in cmds[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / '.ci' / 'run').read_text(encoding='utf-8').splitlines()
    assert readme_commands()[1] in ci


def test_package_xml_format_3_with_dependencies():
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.tag == 'package' and root.get('format') == '3'
    assert root.findtext('name') == 'depth_ros'
    execs = {e.text for e in root.findall('exec_depend')}
    assert {'rclpy', 'sensor_msgs', 'nav_msgs', 'geometry_msgs', 'tf2_ros_py'} <= execs
    assert root.find('export/build_type').text == 'ament_python'


def test_setup_installs_runtime_only_with_data_files():
    tree = ast.parse((ROOT / 'setup.py').read_text(encoding='utf-8'))
    source = ast.unparse(tree)
    assert "include=[PACKAGE, PACKAGE + '.*']" in source  # training/ and test/ excluded
    for folder in ('launch', 'config', 'rviz'):
        assert f"_data('{folder}'" in source
    assert "'resource/' + PACKAGE" in source
    assert 'depth-ros = depth_ros.cli:main' in source
    assert (ROOT / 'resource' / 'depth_ros').is_file()


def test_installed_distribution_excludes_training_and_tests():
    from setuptools import find_packages
    pkgs = find_packages(str(ROOT), include=['depth_ros', 'depth_ros.*'])
    assert 'depth_ros' in pkgs and not any(p.startswith(('training', 'test')) for p in pkgs)
