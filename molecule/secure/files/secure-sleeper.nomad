job "secure-sleeper" {
  datacenters = ["home"]
  type        = "service"

  group "g" {
    count = 1

    task "sleeper" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = ["3600"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
