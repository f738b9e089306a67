import { Global, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { SealedStore } from './sealed.store.js';
import { createSealedStore } from './store.factory.js';
import type { StoreConfig } from './store.config.js';

class SealedStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(SealedStore) private readonly store: SealedStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Provides `SealedStore` (the port is the injection token), backend chosen from validated settings. */
@Global()
@Module({})
export class SealedStoreModule {
  static forRoot(config: StoreConfig): DynamicModule {
    return {
      module: SealedStoreModule,
      providers: [{ provide: SealedStore, useFactory: () => createSealedStore(config) }, SealedStoreCloser],
      exports: [SealedStore],
    };
  }
}
