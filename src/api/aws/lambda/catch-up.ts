/**
 * Read-your-writes across nodes for the Lambda API. A function, version, alias or mapping written
 * through one node is live on the others once their catalog wake-up arrives (usually milliseconds, more
 * under load). A client behind a load balancer may reach another node first: CreateFunction through A,
 * then GetFunction or Invoke through B. Lambda answers those; a node that answered
 * ResourceNotFoundException from its own (late) view would break waiters and scripts. So before a route
 * answers ResourceNotFoundException, the node applies the catalog as stored now and runs the route once
 * more. Only a refusal is retried: such a request changed nothing (nothing is stored on a refused
 * request), so running it again is safe; a name that really does not exist costs one catalog read.
 */
import { SluiceError } from '../../../model/errors.js';
import type { CatalogService } from '../../../catalog/service.js';

export async function afterCatchUp<T>(catalog: Pick<CatalogService, 'catchUp'>, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof SluiceError) || error.code !== 'ResourceNotFoundException') throw error;
    await catalog.catchUp();
    return run();
  }
}
