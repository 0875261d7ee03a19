"""Go-live drills (issue 25): the throughput drill with its incident rehearsal, the pipeline drill and the
go-live gate that runs them."""
