# The seed's httpecho job, run with raw_exec so it needs no Docker: two
# python3 web servers, each on a port Nomad picks.
job "httpecho" {
  datacenters = ["home"]
  type        = "service"

  group "web" {
    count = 2

    task "server" {
      driver = "raw_exec"

      config {
        command = "/usr/bin/python3"
        args    = ["-m", "http.server", "${NOMAD_PORT_http}", "--bind", "${NOMAD_IP_http}"]
      }

      resources {
        network {
          mbits = 10
          port "http" {}
        }
      }
    }
  }
}
