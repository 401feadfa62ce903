# The sleepers again, with how long they sleep read from a file next to this
# one: file() resolves its path from the job file's directory, as nomad_job
# finds the file itself.
job "it-sleeper-file" {
  datacenters = ["dc1"]
  type        = "service"

  group "main" {
    task "sleep" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = [trimspace(file("sleep-seconds.txt"))]
      }

      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
