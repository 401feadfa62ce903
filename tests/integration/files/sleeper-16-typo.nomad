# sleeper-16.nomad with a typo, node_poool: the agent refuses it, naming the
# line and suggesting node_pool, and nothing is registered.
variable "count" {
  type    = number
  default = 2
}

variable "pool" {
  type    = string
  default = "default"
}

job "it-sleeper-16-typo" {
  datacenters = ["dc1"]
  node_poool  = var.pool
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
