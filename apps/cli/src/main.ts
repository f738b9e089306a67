#!/usr/bin/env node
import { requireSupportedNode } from '@cloakroom/config/node-version';

requireSupportedNode('cloakroom');
const { main } = await import('./cli.js');

process.exitCode = await main(process.argv.slice(2));
