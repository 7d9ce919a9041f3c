// A module-path handler: runs in a worker thread.
export const handler = async (event) => ({ doubled: event.n * 2 });
