"""Allow `python -m depth_ros.cli`."""
import sys

from depth_ros.cli import main


sys.exit(main())
