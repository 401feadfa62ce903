# A service job with an update block: each run is a deployment. Health comes
# from the task states, so any client with raw_exec can run it. VERSION and
# the command are what the tests change; a command that exits at once never
# becomes healthy, and progress_deadline = 0 fails the deployment on the first
# unhealthy allocation, so auto_revert brings the last stable version back.
job "it-deploy" {
  datacenters = ["dc1"]
  type        = "service"

  update {
    max_parallel      = 1
    health_check      = "task_states"
    min_healthy_time  = "1s"
    healthy_deadline  = "30s"
    progress_deadline = "0"
    auto_revert       = true
    canary            = 0
  }

  group "web" {
    count = 2

    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    task "app" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "sleep 600"]
      }

      env {
        VERSION = "1"
      }

      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
