# The sleepers in Nomad 1.6's job language: node_pool is a job field that
# 1.6 added, so only an agent of 1.6 or newer can read this file.
variable "count" {
  type    = number
  default = 2
}

variable "pool" {
  type    = string
  default = "default"
}

job "it-sleeper-16" {
  datacenters = ["dc1"]
  node_pool   = var.pool
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
