# A job any Nomad client with raw_exec can run: two sleepers.
job "it-sleeper" {
  datacenters = ["dc1"]
  type        = "service"

  group "main" {
    count = 2

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
