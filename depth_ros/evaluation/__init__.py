"""Evaluation: numpy-only depth and trajectory metrics, KITTI file formats, rosbag2 pose IO.

Modules:
    depth_metrics: the seven depth metrics and the Eigen protocol (Garg crop, median scaling).
    alignment: Umeyama Sim(3)/SE(3) and least-squares scale alignment.
    trajectory: Monodepth2's 5-frame ATE and full-trajectory APE (evo semantics).
    kitti_devkit: KITTI odometry segment errors, ATE and RPE (public devkit port).
    report: every trajectory metric of one prediction, and its text table.
    kitti: KITTI/TUM pose files, velodyne scans, ground-truth depth from lidar.
    trajectory_io: load a trajectory from a file or `BAG:TOPIC`, pair frames of two.
    bag_io: the only module that reads or writes rosbag2 (through `rosbags`).
    kitti_to_bag: KITTI odometry sequences and raw drives to rosbag2.
    frame_plan: stamp order, duplicates and gaps of a replayed image topic.
    replay: `depth-ros evaluate`: replay a bag through a Predictor, metrics, result bag.
    plots: trajectory and depth-preview pictures (matplotlib, imported inside).
    demo: the README's main job (synthetic sequence -> bag -> evaluate).

Import the submodule you need; nothing here imports torch or ROS, and only bag_io imports
rosbags.
"""
