"""test/ros: pure tests run everywhere; real_rclpy/ only inside the isolated rclpy env.

The main test run reaches real_rclpy/ through test_real_rclpy_tier.py, which runs it in a
subprocess inside .venv-ros (see rclpy_env.sh).
"""
import importlib.util


collect_ignore = [] if importlib.util.find_spec('rclpy') else ['real_rclpy', 'real_tools']
