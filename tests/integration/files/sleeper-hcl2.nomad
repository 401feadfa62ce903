# The sleepers in Nomad 1.x's job language: how many is a variable.
variable "count" {
  type    = number
  default = 2
}

job "it-sleeper-hcl2" {
  datacenters = ["dc1"]
  type        = "service"

  group "main" {
    count = var.count

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
