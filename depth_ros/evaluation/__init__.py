"""Evaluation: numpy-only depth and trajectory metrics, KITTI file formats, rosbag2 pose IO.

Modules:
    depth_metrics: the seven depth metrics and the Eigen protocol (Garg crop, median scaling).
    alignment: Umeyama Sim(3)/SE(3) and least-squares scale alignment.
    trajectory: Monodepth2's 5-frame ATE and full-trajectory APE (evo semantics).
    kitti_devkit: KITTI odometry segment errors, ATE and RPE (public devkit port).
    report: every trajectory metric of one prediction, and its text table.
    kitti: KITTI/TUM pose files, velodyne scans, ground-truth depth from lidar.
    trajectory_io: load a trajectory from a file or `BAG:TOPIC`, pair frames of two.
    bag_io: the only module that reads or writes rosbag2 (through `rosbags`); atomic bags.
    kitti_sequence: KITTI odometry sequences and raw drives (frames, stamps, ground truth).
    kitti_to_bag: KITTI odometry sequences and raw drives to rosbag2.
    frame_plan: stamp order, duplicates and gaps of a replayed image topic.
    scoring: ground truth in stamp order, depth and trajectory scores (stamps paired once).
    replay: `depth-ros evaluate`: a bag's images through the node's frame pipeline, scored.
    recorded: `depth-ros evaluate --recorded`: the node's recorded outputs, scored.
    results: the typed BagEvalResult, as JSON and text.
    writers: result bag, metrics.json, plots and previews, written all or nothing.
    plots: trajectory and depth-preview pictures (matplotlib, imported inside).
    demo: the README's main job (synthetic sequence -> bag -> evaluate).

Import the submodule you need; nothing here imports torch or ROS (the message codecs it uses,
`depth_ros.ros.codecs`, are pure Python), and only bag_io imports rosbags.
"""
