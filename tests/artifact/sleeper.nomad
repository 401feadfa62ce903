# A job any client with raw_exec runs: one sleeper.
job "artifact-sleeper" {
  datacenters = ["dc1"]
  type        = "service"

  group "main" {
    count = 1

    task "sleep" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = ["600"]
      }

      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
