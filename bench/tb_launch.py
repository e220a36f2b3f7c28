"""Runs ThingsBoard IoT Gateway inside its own venv (bench/.venv-tb); started by bench.thingsboard.

Only loopback: the update check that TBUpdater starts from its constructor is replaced by a
no-op before the service is imported (and the harness also points HTTP(S)_PROXY at a closed
loopback port, so any other outbound HTTP attempt fails locally).
Usage: bench/.venv-tb/bin/python bench/tb_launch.py <config dir>   (cwd: where logs/ lives)
"""

import os
import sys


def main() -> None:
    config_dir = os.path.abspath(sys.argv[1]) + os.sep
    os.makedirs("logs", exist_ok=True)  # ThingsBoard needs its log folder in the working directory
    from thingsboard_gateway.tb_utility import tb_updater

    tb_updater.TBUpdater.check_for_new_version = lambda self: None
    from thingsboard_gateway.gateway.tb_gateway_service import TBGatewayService

    TBGatewayService(config_dir + "tb_gateway.json")


if __name__ == "__main__":
    main()
