"""Stand-in for the `ros2` command in the bag_replay launch test: records how it was called.

Installed on PATH as `ros2` by the test. Appends one JSON line per call (argv, and the signal
that ended it) to $FAKE_ROS2_LOG. `ros2 bag play` returns after FAKE_ROS2_PLAY_S seconds, like a
short bag; `ros2 bag record` runs until it is interrupted, like the recorder.
"""
import json
import os
import signal
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    ended = {'signal': None}

    def stop(signum, frame):
        ended['signal'] = signal.Signals(signum).name

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if argv[:2] == ['bag', 'play']:
        time.sleep(float(os.environ.get('FAKE_ROS2_PLAY_S', '2')))
    elif argv[:2] == ['bag', 'record']:
        while ended['signal'] is None:
            time.sleep(0.05)
    with open(os.environ['FAKE_ROS2_LOG'], 'a', encoding='utf-8') as log:
        log.write(json.dumps({'argv': argv, 'signal': ended['signal']}) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
