# The post's httpecho job in the Nomad 1.x form (HCL2): the network moves from
# the task's resources to the group, its port is declared there with "to", and
# the docker driver names the ports it uses instead of a port_map. Variables
# hold what differs between clusters; their defaults give the post's job.
#   ansible ubuntu -m nomad_job -a 'src=examples/httpecho-1x.nomad vars={"count":3}'
variable "datacenters" {
  type    = list(string)
  default = ["home"]
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
