# The post's httpecho job for Nomad 1.6 and newer: it runs in a namespace and
# a node pool of its own, fields that 1.6's agent knows and that the agent
# itself parses (nomad_job sends it the file and the variables' values).
#   ansible ubuntu -m nomad_job -a 'src=examples/httpecho-16.nomad namespace=web vars={"count":3}'
variable "datacenters" {
  type    = list(string)
  default = ["home"]
}

variable "pool" {
  type    = string
  default = "default"
}

variable "count" {
  type    = number
  default = 2
}

variable "text" {
  type    = string
  default = "hello world"
}

job "httpecho" {
  region      = "global"
  datacenters = var.datacenters
  node_pool   = var.pool
  type        = "service"

  group "web" {
    count = var.count

    network {
      port "http" {
        to = 5678
      }
    }

    task "server" {
      driver = "docker"

      config {
        image = "hashicorp/http-echo"
        args  = ["-text", var.text]
        ports = ["http"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
