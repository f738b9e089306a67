import { Body, Controller, Get, Inject, Post, UseGuards } from '@nestjs/common';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { BearerGuard, CurrentPrincipal, RequireScopes } from '@cloakroom/resource-server';
import type { Principal } from '@cloakroom/resource-server';
import { OrderBook } from './order.book.js';
import type { Order } from './order.book.js';

export class NewOrder {
  @IsString()
  @Length(1, 200)
  item!: string;

  @IsInt()
  @Min(1)
  @Max(1000)
  quantity!: number;
}

/** Reads and writes through the gateway: a small in-memory order list. */
@Controller('api/orders')
@UseGuards(BearerGuard)
export class OrdersController {
  constructor(@Inject(OrderBook) private readonly orders: OrderBook) {}

  @Get()
  list(): { orders: Order[] } {
    return { orders: this.orders.list() };
  }

  @Post()
  @RequireScopes('orders:write')
  create(@Body() order: NewOrder, @CurrentPrincipal() principal: Principal): Order {
    return this.orders.add(order.item, order.quantity, principal.sub ?? principal.clientId ?? 'unknown');
  }
}
